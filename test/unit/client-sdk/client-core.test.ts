/**
 * The client core's state machine, reconnects, terminal reasons, heartbeat answers and offline
 * queue, with fake timers and a scripted transport (client-sdk-ts/src/client.ts). The transports
 * themselves run against the real broker in test/integration/client-sdk*.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BrokerClientCore, type DisconnectedEvent, type ReconnectingEvent } from '../../../client-sdk-ts/src/client.js';
import { FrameTooLargeError, IdleTimeoutError, type ClientError } from '../../../client-sdk-ts/src/errors.js';
import type { BrokerClientOptions } from '../../../client-sdk-ts/src/options.js';
import type { ClientTransport, TransportEvents, TransportFactory } from '../../../client-sdk-ts/src/transport.js';

/** One transport the factory handed out: what the core did with it, and triggers for its events. */
class Scripted implements ClientTransport {
  readonly sent: Array<Uint8Array | string> = [];
  heartbeats = 0;
  closed = 0;
  destroyedWith: Array<ClientError | undefined> = [];
  constructor(readonly events: TransportEvents) {}
  send(data: Uint8Array | string): void {
    this.sent.push(data);
  }
  sendHeartbeat(): void {
    this.heartbeats++;
  }
  close(): void {
    this.closed++;
  }
  destroy(error?: ClientError): void {
    this.destroyedWith.push(error);
  }
  open(): void {
    this.events.onOpen();
  }
  end(code?: number, error?: ClientError): void {
    this.events.onClose({ code, error });
  }
}

class TestClient extends BrokerClientCore {
  constructor(url: string, options: BrokerClientOptions, factory: TransportFactory) {
    super(url, options, factory);
  }
}

interface Harness {
  client: TestClient;
  transports: Scripted[];
  /** The transport opened last. */
  last(): Scripted;
  disconnected: DisconnectedEvent[];
  reconnecting: ReconnectingEvent[];
  messages: string[];
  connected: number[];
}

function harness(options: BrokerClientOptions = {}, url = 'ws://127.0.0.1:1/'): Harness {
  const transports: Scripted[] = [];
  const client = new TestClient(url, { pingIntervalMs: 0, idleTimeoutMs: 0, ...options }, (_target, events) => {
    const t = new Scripted(events);
    transports.push(t);
    return t;
  });
  const h: Harness = { client, transports, last: () => transports[transports.length - 1], disconnected: [], reconnecting: [], messages: [], connected: [] };
  client.on('disconnected', (e) => h.disconnected.push(e));
  client.on('reconnecting', (e) => h.reconnecting.push(e));
  client.on('message', (m) => h.messages.push(Buffer.from(m).toString()));
  client.on('connected', (e) => h.connected.push(e.connectionCount));
  return h;
}

describe('BrokerClient core', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('goes disconnected → connecting → connected and delivers frames as message events', () => {
    const h = harness();
    expect(h.client.state).toBe('connecting');
    h.last().open();
    expect(h.client.state).toBe('connected');
    expect(h.connected).toEqual([1]);
    h.last().events.onFrame(Buffer.from('hi'));
    expect(h.messages).toEqual(['hi']);
  });

  it('send() returns false while not connected (no hidden queue) and true once connected', () => {
    const h = harness();
    expect(h.client.send('early')).toBe(false);
    h.last().open();
    expect(h.client.send('now')).toBe(true);
    expect(h.client.send(Uint8Array.of(1, 2))).toBe(true);
    expect(h.last().sent).toEqual(['now', Uint8Array.of(1, 2)]);
    h.last().end(1006);
    expect(h.client.send('later')).toBe(false);
    expect(h.transports[0].sent).toHaveLength(2);
  });

  it('refuses a body above maxFrameBytes with PB_ERR_FRAME_TOO_LARGE and sends nothing', () => {
    const h = harness({ maxFrameBytes: 4 });
    h.last().open();
    expect(() => h.client.send(new Uint8Array(5))).toThrow(FrameTooLargeError);
    expect(() => h.client.send('héllo')).toThrow(expect.objectContaining({ code: 'PB_ERR_FRAME_TOO_LARGE' }));
    expect(h.client.send('abcd')).toBe(true);
    expect(h.last().sent).toEqual(['abcd']);
    expect(h.client.state).toBe('connected');
  });

  it('maps a WebSocket close code to the broker’s reason and reconnects after a jittered delay', () => {
    const h = harness();
    h.last().open();
    h.last().end(4009); // shutdown
    expect(h.client.state).toBe('disconnected');
    expect(h.disconnected).toEqual([{ reason: 'shutdown', code: 4009, error: undefined, wasConnected: true, closedByClient: false, willReconnect: true }]);
    expect(h.reconnecting).toEqual([{ attempt: 1, delayMs: 250 }]); // 0.5 × 500
    vi.advanceTimersByTime(249);
    expect(h.transports).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(h.transports).toHaveLength(2);
    expect(h.client.state).toBe('connecting');
    h.last().open();
    expect(h.connected).toEqual([1, 2]);
  });

  it('doubles the window per failed attempt up to maxDelayMs and starts over after a connection opened', () => {
    const h = harness({ reconnect: { initialDelayMs: 100, maxDelayMs: 500 } });
    h.last().end(undefined, undefined); // the first attempt failed
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(h.reconnecting[h.reconnecting.length - 1].delayMs);
      h.last().end();
    }
    expect(h.reconnecting.map((r) => r.delayMs)).toEqual([50, 100, 200, 250, 250, 250]);
    expect(h.reconnecting.map((r) => r.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    vi.advanceTimersByTime(250);
    h.last().open();
    h.last().end(1006);
    expect(h.reconnecting[h.reconnecting.length - 1]).toEqual({ attempt: 1, delayMs: 50 });
  });

  it('gives up after maxAttempts failed attempts in a row', () => {
    const h = harness({ reconnect: { initialDelayMs: 100, maxAttempts: 2 } });
    h.last().open();
    h.last().end(1006);
    vi.advanceTimersByTime(1000);
    h.last().end();
    vi.advanceTimersByTime(1000);
    h.last().end();
    expect(h.transports).toHaveLength(3);
    expect(h.disconnected.map((d) => d.willReconnect)).toEqual([true, true, false]);
    vi.advanceTimersByTime(600_000);
    expect(h.transports).toHaveLength(3);
    expect(h.client.state).toBe('disconnected');
  });

  it.each([
    [4003, 'refused-by-plugin'],
    [4005, 'auth-timeout'],
    [4001, 'protocol-error'],
    [1009, 'protocol-error'],
    [1002, 'protocol-error'],
  ])('does not reconnect after close code %i (%s)', (code, reason) => {
    const h = harness();
    h.last().open();
    h.last().end(code);
    expect(h.disconnected[0]).toMatchObject({ reason, willReconnect: false });
    vi.advanceTimersByTime(600_000);
    expect(h.transports).toHaveLength(1);
    expect(h.reconnecting).toHaveLength(0);
  });

  it('does not reconnect after a framing error in what the broker sent', () => {
    const h = harness({}, 'tcp://127.0.0.1:1');
    h.last().open();
    h.last().end(undefined, new FrameTooLargeError(2 << 20, 1 << 20, 5));
    expect(h.disconnected[0]).toMatchObject({ reason: undefined, willReconnect: false, error: { code: 'PB_ERR_FRAME_TOO_LARGE' } });
  });

  it('reconnects after other reasons, and after terminal ones when terminalReasons says so', () => {
    for (const code of [4000, 4002, 4004, 4006, 4007, 4008, 4009, 4010, 1000, 1001, 1006, 1011]) {
      const h = harness();
      h.last().open();
      h.last().end(code);
      expect(h.disconnected[0].willReconnect).toBe(true);
      void h.client.close();
    }
    const h = harness({ terminalReasons: [] });
    h.last().open();
    h.last().end(4003);
    expect(h.disconnected[0]).toMatchObject({ reason: 'refused-by-plugin', willReconnect: true });
  });

  it('never reconnects with reconnect: false', () => {
    const h = harness({ reconnect: false });
    h.last().end();
    expect(h.disconnected[0]).toMatchObject({ wasConnected: false, willReconnect: false });
    vi.advanceTimersByTime(60_000);
    expect(h.transports).toHaveLength(1);
  });

  it('close() closes gracefully, reports closedByClient and resolves when the transport closed', async () => {
    const h = harness();
    h.last().open();
    let resolved = false;
    const p = h.client.close().then(() => (resolved = true));
    expect(h.last().closed).toBe(1);
    await Promise.resolve();
    expect(resolved).toBe(false);
    h.last().end(1000);
    await p;
    expect(h.disconnected).toEqual([{ reason: undefined, code: 1000, error: undefined, wasConnected: true, closedByClient: true, willReconnect: false }]);
    vi.advanceTimersByTime(600_000);
    expect(h.transports).toHaveLength(1);
  });

  it('close() drops a connection whose broker does not answer within 2 s', () => {
    const h = harness();
    h.last().open();
    void h.client.close();
    vi.advanceTimersByTime(1999);
    expect(h.last().destroyedWith).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(h.last().destroyedWith).toHaveLength(1);
  });

  it('close() during the backoff cancels the pending attempt', async () => {
    const h = harness();
    h.last().open();
    h.last().end(1006);
    await h.client.close();
    vi.advanceTimersByTime(600_000);
    expect(h.transports).toHaveLength(1);
    expect(h.client.send('x')).toBe(false);
  });

  it('gives up an attempt that does not open within connectTimeoutMs', () => {
    const h = harness({ connectTimeoutMs: 3000 });
    vi.advanceTimersByTime(2999);
    expect(h.last().destroyedWith).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(h.last().destroyedWith[0]?.code).toBe('PB_ERR_CLIENT_CONNECT_TIMEOUT');
  });

  it('answers the broker’s heartbeat, but not the answer to its own', () => {
    const h = harness({ pingIntervalMs: 1000, idleTimeoutMs: 5000 });
    h.last().open();
    h.last().events.onHeartbeat(); // the broker pings
    expect(h.last().heartbeats).toBe(1); // answered
    vi.advanceTimersByTime(1000); // silence: the client pings
    expect(h.last().heartbeats).toBe(2);
    h.last().events.onHeartbeat(); // the broker's answer
    expect(h.last().heartbeats).toBe(2); // not answered again
    h.last().events.onHeartbeat(); // a new ping from the broker
    expect(h.last().heartbeats).toBe(3);
    expect(h.messages).toEqual([]); // heartbeats are not messages
  });

  it('drops a connection silent for idleTimeoutMs with PB_ERR_CLIENT_IDLE_TIMEOUT, then reconnects', () => {
    const h = harness({ pingIntervalMs: 1000, idleTimeoutMs: 3000 });
    h.last().open();
    vi.advanceTimersByTime(2999);
    h.last().events.onAlive(); // a WebSocket ping counts as life
    vi.advanceTimersByTime(2999);
    expect(h.last().destroyedWith).toHaveLength(0);
    vi.advanceTimersByTime(1);
    const err = h.last().destroyedWith[0];
    expect(err).toBeInstanceOf(IdleTimeoutError);
    h.last().end(1006, err);
    expect(h.disconnected[0]).toMatchObject({ error: { code: 'PB_ERR_CLIENT_IDLE_TIMEOUT' }, willReconnect: true });
  });

  it('with offlineQueueMaxFrames holds frames while not connected and sends them, in order, after the connected listeners', () => {
    const h = harness({ offlineQueueMaxFrames: 2 });
    const buf = Uint8Array.of(7);
    expect(h.client.send('a')).toBe(true);
    expect(h.client.send(buf)).toBe(true);
    buf[0] = 8; // the held frame is a copy
    expect(h.client.send('c')).toBe(false);
    h.client.once('connected', () => h.client.send('login'));
    h.last().open();
    expect(h.last().sent).toEqual(['login', 'a', Uint8Array.of(7)]);
  });

  it('holds nothing once no attempt will follow: after close() or a terminal reason', () => {
    const h = harness({ offlineQueueMaxFrames: 5 });
    h.last().open();
    h.last().end(1006);
    expect(h.client.send('x')).toBe(true); // held for the next attempt
    void h.client.close();
    expect(h.client.send('y')).toBe(false);
    const t = harness({ offlineQueueMaxFrames: 5 });
    t.last().open();
    t.last().end(4003);
    expect(t.client.send('z')).toBe(false);
  });

  it('ignores events of a transport it already left', () => {
    const h = harness();
    const first = h.last();
    first.open();
    first.end(1006);
    vi.advanceTimersByTime(1000);
    first.events.onFrame(Buffer.from('stale'));
    first.end(1006);
    expect(h.messages).toEqual([]);
    expect(h.disconnected).toHaveLength(1);
    expect(h.transports).toHaveLength(2);
  });

  it('reports a transport factory that throws as a failed attempt, after the constructor returned', async () => {
    const client = new TestClient('ws://127.0.0.1:1/', { reconnect: { maxAttempts: 0 } }, () => {
      throw new Error('no sockets here');
    });
    const events: DisconnectedEvent[] = [];
    client.on('disconnected', (e) => events.push(e));
    await Promise.resolve();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ wasConnected: false, willReconnect: false, error: { code: 'PB_ERR_CLIENT_CONNECT_FAILED' } });
  });
});
