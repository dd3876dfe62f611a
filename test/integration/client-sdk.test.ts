/**
 * The client SDK (client-sdk-ts/, its Node build) against the real broker over every listener:
 * echo, send() while not connected, a broker restart mid-session, heartbeats both ways, a silent
 * peer, refused connects and giving up.
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BinaryDecoder, DecimalDecoder, type NodeBrokerClientOptions } from '@plugbroker/client';
import type { BrokerOptions } from '../../host/config.js';
import { ECHO_WASM, fixture } from '../helpers/paths.js';
import { TcpTap, WsTap, useSdkClients } from '../helpers/sdk-client.js';
import { makeTestCert, type TestCert } from '../helpers/tls.js';

/** One kind of broker listener and the client URL for it. */
interface ListenerCase {
  name: string;
  /** The broker's `--listen` URL on `port` (0: any). */
  listen(port: number): string;
  /** The client's URL for a listener bound to `port`. */
  url(port: number): string;
  /** tls:// and wss://: the broker needs the certificate, the client trusts it. */
  secure: boolean;
  /** ws:// and wss:// carry the close reason (code 4000 + discriminant). */
  carriesReason: boolean;
  /** More broker options (the isolation mode). */
  extra?: Partial<BrokerOptions>;
}

const stream = (scheme: string, framing: string): Omit<ListenerCase, 'name'> => ({
  listen: (port) => `${scheme}://127.0.0.1:${port}${framing === 'decimal' ? '' : `?framing=${framing}`}`,
  url: (port) => `${scheme}://127.0.0.1:${port}?framing=${framing}`,
  secure: scheme === 'tls',
  carriesReason: false,
});
const websocket = (scheme: string): Omit<ListenerCase, 'name'> => ({
  listen: (port) => `${scheme}://127.0.0.1:${port}/sdk`,
  url: (port) => `${scheme}://127.0.0.1:${port}/sdk`,
  secure: scheme === 'wss',
  carriesReason: true,
});

const LISTENERS: ListenerCase[] = [
  { name: 'tcp:// decimal', ...stream('tcp', 'decimal') },
  { name: 'tcp:// binary', ...stream('tcp', 'binary') },
  { name: 'tls:// decimal', ...stream('tls', 'decimal') },
  { name: 'tls:// binary', ...stream('tls', 'binary') },
  { name: 'ws://', ...websocket('ws') },
  { name: 'wss://', ...websocket('wss') },
  // The client does not see where the plugin runs; one case each way proves it.
  { name: 'ws:// (worker isolation)', ...websocket('ws'), extra: { isolation: 'worker' } },
  { name: 'tcp:// binary (worker isolation)', ...stream('tcp', 'binary'), extra: { isolation: 'worker' } },
];

/** Fast reconnects for tests; the default backoff is tested with fake timers. */
const FAST = { reconnect: { initialDelayMs: 50, maxDelayMs: 400 } };

let cert: TestCert;
beforeAll(() => {
  cert = makeTestCert();
});
afterAll(() => cert?.remove());

/** Broker options for `listener` on `port`, with `extra`. */
function brokerFor(listener: ListenerCase, port: number, extra: Partial<BrokerOptions> = {}): Omit<BrokerOptions, 'logger'> {
  return {
    plugin: ECHO_WASM,
    listen: [listener.listen(port)],
    ...(listener.secure ? { tlsCert: cert.certPath, tlsKey: cert.keyPath } : {}),
    ...listener.extra,
    ...extra,
  };
}

/** Client options for `listener`: trust the test certificate. */
function clientFor(listener: ListenerCase, extra: NodeBrokerClientOptions = {}): NodeBrokerClientOptions {
  return { ...FAST, ...(listener.secure ? { tls: { ca: cert.cert } } : {}), ...extra };
}

describe.each(LISTENERS)('BrokerClient over $name', { timeout: 60_000 }, (listener) => {
  const sdk = useSdkClients();

  it('connects, reports the transport, and echoes text, every byte value and a 200 KiB frame', async () => {
    const tb = await sdk.broker(brokerFor(listener, 0));
    const c = sdk.client(listener.url(tb.port), clientFor(listener));
    expect(c.client.state).toBe('connecting');
    const ev = await c.waitConnected();
    expect(ev).toMatchObject({
      url: listener.url(tb.port),
      connectionCount: 1,
      secure: listener.secure,
      transport: listener.carriesReason ? 'websocket' : 'tcp',
    });
    expect(c.client.state).toBe('connected');
    expect((await c.request('héllo')).toString()).toBe('héllo');
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(Buffer.compare(await c.request(all), all)).toBe(0);
    const big = Buffer.alloc(200 * 1024, 'x');
    expect((await c.request(big)).equals(big)).toBe(true);
  });

  it('send() returns false before the connection opens and while the broker is away', async () => {
    const tb = await sdk.broker(brokerFor(listener, 0));
    const c = sdk.client(listener.url(tb.port), clientFor(listener));
    expect(c.client.send('too early')).toBe(false);
    await c.waitConnected();
    await tb.stop();
    await c.waitDisconnected();
    expect(c.client.send('nobody there')).toBe(false);
  });

  it('reconnects after a broker restart mid-session and carries on', async () => {
    const first = await sdk.broker(brokerFor(listener, 0));
    const port = first.port;
    const c = sdk.client(listener.url(port), clientFor(listener));
    await c.waitConnected();
    expect((await c.request('before')).toString()).toBe('before');
    await first.stop();
    const down = await c.waitDisconnected();
    expect(down).toMatchObject({ wasConnected: true, closedByClient: false, willReconnect: true });
    // The broker's stop closes every channel with `shutdown`; only WebSocket can say so.
    expect(down.reason).toBe(listener.carriesReason ? 'shutdown' : undefined);
    if (listener.carriesReason) expect(down.code).toBe(4009);
    await sdk.broker(brokerFor(listener, port));
    const again = await c.waitConnected(2);
    expect(again.connectionCount).toBe(2);
    expect(c.reconnecting.length).toBeGreaterThanOrEqual(1);
    expect(c.reconnecting[0]).toMatchObject({ attempt: 1 });
    expect(c.reconnecting[0].delayMs).toBeLessThanOrEqual(50);
    expect((await c.request('after')).toString()).toBe('after');
    expect(c.log[0]).toBe('connected');
    expect(c.log.slice(1, 3)).toEqual(['disconnected', 'reconnecting']);
  });

  it('close() ends the session without a reconnect', async () => {
    const tb = await sdk.broker(brokerFor(listener, 0));
    const c = sdk.client(listener.url(tb.port), clientFor(listener));
    await c.waitConnected();
    await c.client.close();
    expect(c.client.state).toBe('disconnected');
    expect(c.disconnected).toEqual([expect.objectContaining({ closedByClient: true, willReconnect: false, wasConnected: true })]);
    expect(c.reconnecting).toEqual([]);
    expect(c.client.send('x')).toBe(false);
  });
});

/** A port nothing listens on (bound once, then released). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('BrokerClient connecting to nothing', () => {
  const sdk = useSdkClients();

  it('reports each refused attempt, backs off and gives up after maxAttempts', async () => {
    const port = await freePort();
    const c = sdk.client(`tcp://127.0.0.1:${port}`, { reconnect: { initialDelayMs: 20, maxDelayMs: 40, maxAttempts: 2 } });
    const last = await c.waitDisconnected(3);
    expect(c.disconnected.map((d) => [d.wasConnected, d.willReconnect, d.error?.code])).toEqual([
      [false, true, 'PB_ERR_CLIENT_CONNECT_FAILED'],
      [false, true, 'PB_ERR_CLIENT_CONNECT_FAILED'],
      [false, false, 'PB_ERR_CLIENT_CONNECT_FAILED'],
    ]);
    expect(last.error?.cause).toMatchObject({ code: 'ECONNREFUSED' });
    expect(c.reconnecting.map((r) => r.attempt)).toEqual([1, 2]);
    expect(c.connected).toEqual([]);
    expect(c.client.state).toBe('disconnected');
  });
});

/** Heartbeat frames (empty bodies) a byte stream holds, in `framing`. */
function heartbeats(chunks: readonly Buffer[], framing: 'decimal' | 'binary'): number {
  let n = 0;
  const count = (b: Uint8Array): void => void (b.length === 0 && n++);
  (framing === 'binary' ? new BinaryDecoder(count, 1 << 20) : new DecimalDecoder(count, 1 << 20)).push(Buffer.concat(chunks));
  return n;
}

describe.each(['decimal', 'binary'] as const)('BrokerClient heartbeats over tcp:// %s framing (seen through a tap between client and broker)', (framing) => {
  const sdk = useSdkClients();
  let tap: TcpTap | undefined;
  afterEach(async () => {
    await tap?.close();
    tap = undefined;
  });
  const listen = [`tcp://127.0.0.1:0?framing=${framing}`];
  const via = (t: TcpTap): string => `tcp://127.0.0.1:${t.port}?framing=${framing}`;

  it('sends heartbeats when the broker is silent, and the broker answers each', async () => {
    const tb = await sdk.broker({ plugin: ECHO_WASM, listen, pingIntervalMs: 0, idleTimeoutMs: 0 });
    tap = await TcpTap.start(tb.port);
    const c = sdk.client(via(tap), { pingIntervalMs: 50, idleTimeoutMs: 10_000 });
    await c.waitConnected();
    await tap.until((b) => heartbeats(b.toBroker, framing) >= 3 && heartbeats(b.toClient, framing) >= 3, 'three heartbeats each way');
    expect(c.messages).toEqual([]); // heartbeats are not messages
    expect(c.disconnected).toEqual([]);
  });

  it('answers the broker’s heartbeats', async () => {
    const tb = await sdk.broker({ plugin: ECHO_WASM, listen, pingIntervalMs: 50, idleTimeoutMs: 0 });
    tap = await TcpTap.start(tb.port);
    const c = sdk.client(via(tap), { pingIntervalMs: 0, idleTimeoutMs: 0 });
    await c.waitConnected();
    await tap.until((b) => heartbeats(b.toClient, framing) >= 3 && heartbeats(b.toBroker, framing) >= 3, 'three broker heartbeats answered');
    expect(c.disconnected).toEqual([]);
  });

  it('drops a connection that went silent (idleTimeoutMs) and reconnects', async () => {
    const tb = await sdk.broker({ plugin: ECHO_WASM, listen, pingIntervalMs: 0, idleTimeoutMs: 0 });
    tap = await TcpTap.start(tb.port);
    // Idle after 2.5 s of silence with a ping every 250 ms: no false timeout on a loaded machine (#14).
    const c = sdk.client(via(tap), { pingIntervalMs: 250, idleTimeoutMs: 2500, ...FAST });
    await c.waitConnected();
    tap.blackhole = true;
    const down = await c.waitDisconnected();
    expect(down).toMatchObject({ wasConnected: true, willReconnect: true, error: { code: 'PB_ERR_CLIENT_IDLE_TIMEOUT' } });
    tap.blackhole = false;
    await c.waitConnected(2);
    expect((await c.request('back')).toString()).toBe('back');
  });
});

describe('BrokerClient heartbeats over ws:// (seen through a WebSocket relay)', () => {
  const sdk = useSdkClients();
  let tap: WsTap | undefined;
  afterEach(async () => {
    await tap?.close();
    tap = undefined;
  });

  it('sends empty messages when the broker is silent, and the broker answers each', async () => {
    const tb = await sdk.broker({ plugin: ECHO_WASM, listen: ['ws://127.0.0.1:0/sdk'], pingIntervalMs: 0, idleTimeoutMs: 0 });
    tap = await WsTap.start(`ws://127.0.0.1:${tb.port}/sdk`);
    const c = sdk.client(tap.url, { pingIntervalMs: 50, idleTimeoutMs: 10_000 });
    await c.waitConnected();
    await tap.until((n) => n.heartbeatsToBroker >= 3 && n.heartbeatsToClient >= 3, 'three heartbeats each way');
    expect(c.messages).toEqual([]);
    expect(c.disconnected).toEqual([]);
  });

  it('counts the broker’s WebSocket pings as life: no idle timeout while they come', async () => {
    // The client sends nothing and the echo plugin says nothing: pings are all that arrives. Twenty
    // of them span 5 s, twice the client's idle timeout, which fires at 2.5 s if they do not count
    // (a ping every 250 ms: ten per idle timeout, far above scheduling noise).
    const tb = await sdk.broker({ plugin: ECHO_WASM, listen: ['ws://127.0.0.1:0/sdk'], pingIntervalMs: 250, idleTimeoutMs: 0 });
    tap = await WsTap.start(`ws://127.0.0.1:${tb.port}/sdk`);
    const c = sdk.client(tap.url, { pingIntervalMs: 0, idleTimeoutMs: 2500 });
    await c.waitConnected();
    await tap.until((n) => n.pingsToClient >= 20, 'twenty broker pings');
    expect(c.disconnected).toEqual([]);
    expect(tap.counts.heartbeatsToBroker).toBe(0);
  });
});

describe.each(['ws', 'wss'] as const)('BrokerClient terminal reasons over %s://', (scheme) => {
  const sdk = useSdkClients();
  const listener = LISTENERS.find((l) => l.name === `${scheme}://`)!;

  it('does not reconnect after refused-by-plugin (4003)', async () => {
    const tb = await sdk.broker(brokerFor(listener, 0, { plugin: fixture('refuse-connect') }));
    const c = sdk.client(listener.url(tb.port), clientFor(listener));
    const down = await c.waitDisconnected();
    expect(down).toMatchObject({ reason: 'refused-by-plugin', code: 4003, willReconnect: false });
    expect(c.reconnecting).toEqual([]);
    expect(c.client.state).toBe('disconnected');
    expect(c.client.send('x')).toBe(false);
  });

  it('does not reconnect after auth-timeout (4005)', async () => {
    // 2 s: the handshake must finish before the deadline even on a loaded machine (#14).
    const tb = await sdk.broker(brokerFor(listener, 0, { authDeadlineMs: 2000, pingIntervalMs: 0, idleTimeoutMs: 0 }));
    const c = sdk.client(listener.url(tb.port), clientFor(listener));
    await c.waitConnected();
    const down = await c.waitDisconnected();
    expect(down).toMatchObject({ reason: 'auth-timeout', code: 4005, wasConnected: true, willReconnect: false });
    expect(c.reconnecting).toEqual([]);
  });

  it('does not reconnect after a protocol error: a frame above the broker’s --max-frame-bytes', async () => {
    const tb = await sdk.broker(brokerFor(listener, 0, { maxFrameBytes: 1024 }));
    const c = sdk.client(listener.url(tb.port), clientFor(listener, { maxFrameBytes: 4096 }));
    await c.waitConnected();
    expect(c.client.send(new Uint8Array(2048))).toBe(true);
    const down = await c.waitDisconnected();
    expect(down).toMatchObject({ reason: 'protocol-error', wasConnected: true, willReconnect: false });
    expect(c.reconnecting).toEqual([]);
  });

  it('reconnects after closed-by-plugin (4002), a reason that is not terminal', async () => {
    const tb = await sdk.broker(brokerFor(listener, 0, { plugin: fixture('probe') }));
    const c = sdk.client(listener.url(tb.port), clientFor(listener));
    await c.waitConnected();
    expect(c.client.send('c')).toBe(true); // probe: "c" closes the channel
    const down = await c.waitDisconnected();
    expect(down).toMatchObject({ reason: 'closed-by-plugin', code: 4002, willReconnect: true });
    await c.waitConnected(2);
  });
});

describe('BrokerClient against a listener it cannot use', () => {
  const sdk = useSdkClients();

  it('reports an upgrade to a wrong path as a failed attempt (PB_ERR_CLIENT_CONNECT_FAILED, HTTP 404 as the cause)', async () => {
    const tb = await sdk.broker({ plugin: ECHO_WASM, listen: ['ws://127.0.0.1:0/sdk'] });
    const c = sdk.client(`ws://127.0.0.1:${tb.port}/elsewhere`, { reconnect: { maxAttempts: 0 } });
    const down = await c.waitDisconnected();
    expect(down).toMatchObject({ wasConnected: false, willReconnect: false, error: { code: 'PB_ERR_CLIENT_CONNECT_FAILED' } });
    expect(String((down.error?.cause as Error | undefined)?.message)).toContain('404');
  });

  it('reports a certificate it does not trust as a failed attempt', async () => {
    const tb = await sdk.broker({ plugin: ECHO_WASM, listen: ['tls://127.0.0.1:0'], tlsCert: cert.certPath, tlsKey: cert.keyPath });
    const c = sdk.client(`tls://127.0.0.1:${tb.port}`, { reconnect: { maxAttempts: 0 } });
    const down = await c.waitDisconnected();
    expect(down).toMatchObject({ wasConnected: false, willReconnect: false, error: { code: 'PB_ERR_CLIENT_CONNECT_FAILED' } });
    expect(down.error?.cause).toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  });

  it('gives up on a framing error in what the broker sent (decimal client, binary listener)', async () => {
    // The binary listener's heartbeat, 00 00 00 00, is no decimal length header (a NUL byte).
    const tb = await sdk.broker({ plugin: ECHO_WASM, listen: ['tcp://127.0.0.1:0?framing=binary'], pingIntervalMs: 20, idleTimeoutMs: 0 });
    const c = sdk.client(`tcp://127.0.0.1:${tb.port}?framing=decimal`, { pingIntervalMs: 0, idleTimeoutMs: 0, ...FAST });
    await c.waitConnected();
    const down = await c.waitDisconnected();
    expect(down).toMatchObject({ wasConnected: true, willReconnect: false, error: { code: 'PB_ERR_FRAME_BAD_LENGTH' } });
  });
});
