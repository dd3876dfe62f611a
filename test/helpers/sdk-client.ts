/**
 * Helpers for tests of the client SDK against real brokers: a client that records its events and
 * waits for them with deadlines, a broker that can be restarted on the same port, and a TCP tap
 * that sees the bytes both ways. Every wait is on an event with a deadline, never a bare sleep.
 */
import net from 'node:net';
import { once } from 'node:events';
import { afterEach } from 'vitest';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { BrokerClient, type ConnectedEvent, type DisconnectedEvent, type NodeBrokerClientOptions, type ReconnectingEvent } from '@plugbroker/client';
import type { BrokerOptions } from '../../host/config.js';
import { startBroker, type TestBroker } from './broker.js';
import { Waiter } from './wait.js';

/** Deadline for anything that crosses a socket in these tests: far above scheduling noise. */
export const DEADLINE_MS = 20_000;

/** A `BrokerClient` whose events are recorded in order. */
export class RecordingClient {
  readonly client: BrokerClient;
  readonly messages: Buffer[] = [];
  readonly connected: ConnectedEvent[] = [];
  readonly disconnected: DisconnectedEvent[] = [];
  readonly reconnecting: ReconnectingEvent[] = [];
  /** Event names in order (`connected`, `disconnected`, `reconnecting`). */
  readonly log: string[] = [];
  readonly #waiter = new Waiter();

  constructor(url: string, options: NodeBrokerClientOptions = {}) {
    this.client = new BrokerClient(url, options);
    this.client.on('message', (m) => this.#record(() => this.messages.push(Buffer.from(m))));
    this.client.on('connected', (e) => this.#record(() => this.connected.push(e), 'connected'));
    this.client.on('disconnected', (e) => this.#record(() => this.disconnected.push(e), 'disconnected'));
    this.client.on('reconnecting', (e) => this.#record(() => this.reconnecting.push(e), 'reconnecting'));
  }

  #record(f: () => void, name?: string): void {
    f();
    if (name !== undefined) this.log.push(name);
    this.#waiter.wake();
  }

  /** Resolves once `count` connections have opened in total. */
  async waitConnected(count = 1, deadlineMs = DEADLINE_MS): Promise<ConnectedEvent> {
    await this.#waiter.until(
      () => this.connected.length >= count,
      () => `connection #${count} (${this.connected.length} so far; events: ${this.log.join(', ')}; last error: ${this.disconnected.at(-1)?.error?.message})`,
      { deadlineMs },
    );
    return this.connected[count - 1];
  }

  /** Resolves once `count` disconnected events were seen in total. */
  async waitDisconnected(count = 1, deadlineMs = DEADLINE_MS): Promise<DisconnectedEvent> {
    await this.#waiter.until(
      () => this.disconnected.length >= count,
      () => `disconnect #${count} (${this.disconnected.length} so far)`,
      { deadlineMs },
    );
    return this.disconnected[count - 1];
  }

  /** Resolves once `count` messages arrived in total; returns them as strings. */
  async waitMessages(count: number, deadlineMs = DEADLINE_MS): Promise<Buffer[]> {
    await this.#waiter.until(
      () => this.messages.length >= count,
      () => `${count} messages (${this.messages.length} so far)`,
      { deadlineMs },
    );
    return this.messages.slice(0, count);
  }

  /** Sends `body` and resolves with the next message (an echo or a reply). */
  async request(body: string | Uint8Array, deadlineMs = DEADLINE_MS): Promise<Buffer> {
    const want = this.messages.length + 1;
    if (!this.client.send(body)) throw new Error(`send() returned false in state ${this.client.state}`);
    return (await this.waitMessages(want, deadlineMs))[want - 1];
  }
}

/**
 * Tracks the SDK clients and brokers a suite opens and closes them after each test.
 */
export function useSdkClients(): {
  client(url: string, options?: NodeBrokerClientOptions): RecordingClient;
  broker(opts: Omit<BrokerOptions, 'logger'>): Promise<TestBroker>;
} {
  const clients: RecordingClient[] = [];
  const brokers: TestBroker[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.client.close()));
    await Promise.all(brokers.splice(0).map((b) => b.stop()));
  });
  return {
    client(url, options = {}) {
      const c = new RecordingClient(url, options);
      clients.push(c);
      return c;
    },
    async broker(opts) {
      const b = await startBroker(opts);
      brokers.push(b);
      return b;
    },
  };
}

/** Bytes seen by a `TcpTap` in each direction. */
export interface TapBytes {
  toBroker: Buffer[];
  toClient: Buffer[];
}

/**
 * A TCP relay between a client and a broker on 127.0.0.1 that records the bytes both ways (for
 * heartbeat tests: the frames the client and the broker exchange are invisible from outside).
 */
export class TcpTap {
  readonly bytes: TapBytes = { toBroker: [], toClient: [] };
  /** While true, the broker's bytes are dropped (a partition the client can only notice by silence). */
  blackhole = false;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #waiter = new Waiter();

  private constructor(server: net.Server) {
    this.#server = server;
  }

  static async start(brokerPort: number): Promise<TcpTap> {
    const server = net.createServer();
    const tap = new TcpTap(server);
    server.on('connection', (client) => {
      const upstream = net.connect({ host: '127.0.0.1', port: brokerPort });
      for (const s of [client, upstream]) {
        tap.#sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          tap.#sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.on('data', (b: Buffer) => {
        tap.bytes.toBroker.push(b);
        upstream.write(b);
        tap.#waiter.wake();
      });
      upstream.on('data', (b: Buffer) => {
        if (tap.blackhole) return;
        tap.bytes.toClient.push(b);
        client.write(b);
        tap.#waiter.wake();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return tap;
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  /** Resolves when `cond(bytes)` holds; rejects after the deadline. */
  until(cond: (bytes: TapBytes) => boolean, what: string, deadlineMs = DEADLINE_MS): Promise<void> {
    return this.#waiter.until(
      () => cond(this.bytes),
      () => what,
      { deadlineMs },
    );
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Messages and pings a `WsTap` relayed. */
export interface WsTapCounts {
  /** Empty messages (heartbeats) from the client to the broker, and back. */
  heartbeatsToBroker: number;
  heartbeatsToClient: number;
  /** WebSocket pings from the broker passed on to the client. */
  pingsToClient: number;
}

/**
 * A WebSocket relay (a `ws` server in front of a `ws` client to the broker) that counts the
 * heartbeats both ways and passes the broker's pings on: the WebSocket counterpart of `TcpTap`.
 */
export class WsTap {
  readonly counts: WsTapCounts = { heartbeatsToBroker: 0, heartbeatsToClient: 0, pingsToClient: 0 };
  readonly #server: WebSocketServer;
  readonly #waiter = new Waiter();

  private constructor(server: WebSocketServer) {
    this.#server = server;
  }

  static async start(brokerUrl: string): Promise<WsTap> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    const tap = new WsTap(server);
    server.on('connection', (down) => {
      const up = new WebSocket(brokerUrl);
      const pending: Array<[RawData, boolean]> = [];
      const closeBoth = (code: number): void => {
        // 1005/1006 say "no code": they cannot be sent on.
        const sendable = code >= 1000 && code !== 1005 && code !== 1006 ? code : 1000;
        for (const ws of [up, down]) if (ws.readyState === WebSocket.OPEN) ws.close(sendable);
      };
      up.on('open', () => {
        for (const [data, isBinary] of pending.splice(0)) up.send(data, { binary: isBinary });
      });
      down.on('message', (data: RawData, isBinary) => {
        if (byteLength(data) === 0) tap.counts.heartbeatsToBroker++;
        if (up.readyState === WebSocket.OPEN) up.send(data, { binary: isBinary });
        else pending.push([data, isBinary]);
        tap.#waiter.wake();
      });
      up.on('message', (data: RawData, isBinary) => {
        if (byteLength(data) === 0) tap.counts.heartbeatsToClient++;
        down.send(data, { binary: isBinary });
        tap.#waiter.wake();
      });
      up.on('ping', (data) => {
        tap.counts.pingsToClient++;
        down.ping(data);
        tap.#waiter.wake();
      });
      up.on('close', (code) => closeBoth(code));
      down.on('close', (code) => closeBoth(code));
      up.on('error', () => down.terminate());
      down.on('error', () => up.terminate());
    });
    await once(server, 'listening');
    return tap;
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.#server.address() as net.AddressInfo).port}/`;
  }

  /** Resolves when `cond(counts)` holds; rejects after the deadline. */
  until(cond: (counts: WsTapCounts) => boolean, what: string, deadlineMs = DEADLINE_MS): Promise<void> {
    return this.#waiter.until(
      () => cond(this.counts),
      () => `${what} (${JSON.stringify(this.counts)})`,
      { deadlineMs },
    );
  }

  async close(): Promise<void> {
    for (const ws of this.#server.clients) ws.terminate();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}
