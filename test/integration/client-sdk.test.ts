/**
 * The client SDK (client-sdk-ts/, its Node build) against the real broker over every listener:
 * echo, send() while not connected, a broker restart mid-session, heartbeats both ways, a silent
 * peer, refused connects and giving up.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DecimalDecoder } from '@plugbroker/client';
import type { BrokerOptions } from '../../host/config.js';
import { ECHO_WASM } from '../helpers/paths.js';
import { TcpTap, useSdkClients } from '../helpers/sdk-client.js';

/** One kind of broker listener and the client URL for it. */
interface ListenerCase {
  name: string;
  /** Broker options serving this listener on `port` (0: any). */
  broker(port: number): Partial<BrokerOptions>;
  url(port: number): string;
}

const LISTENERS: ListenerCase[] = [{ name: 'tcp:// decimal', broker: (port) => ({ port }), url: (port) => `tcp://127.0.0.1:${port}` }];

/** Fast reconnects for tests; the default backoff is tested with fake timers. */
const FAST = { reconnect: { initialDelayMs: 50, maxDelayMs: 400 } };

describe.each(LISTENERS)('BrokerClient over $name', (listener) => {
  const sdk = useSdkClients();

  it('connects, reports the transport, and echoes text, every byte value and a 200 KiB frame', async () => {
    const tb = await sdk.broker({ plugin: ECHO_WASM, ...listener.broker(0) });
    const c = sdk.client(listener.url(tb.port), FAST);
    expect(c.client.state).toBe('connecting');
    const ev = await c.waitConnected();
    expect(ev).toMatchObject({ url: listener.url(tb.port), connectionCount: 1 });
    expect(c.client.state).toBe('connected');
    expect((await c.request('héllo')).toString()).toBe('héllo');
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(Buffer.compare(await c.request(all), all)).toBe(0);
    const big = Buffer.alloc(200 * 1024, 'x');
    expect((await c.request(big)).equals(big)).toBe(true);
  });

  it('send() returns false before the connection opens and while the broker is away', async () => {
    const tb = await sdk.broker({ plugin: ECHO_WASM, ...listener.broker(0) });
    const c = sdk.client(listener.url(tb.port), FAST);
    expect(c.client.send('too early')).toBe(false);
    await c.waitConnected();
    await tb.stop();
    await c.waitDisconnected();
    expect(c.client.send('nobody there')).toBe(false);
  });

  it('reconnects after a broker restart mid-session and carries on', async () => {
    const first = await sdk.broker({ plugin: ECHO_WASM, ...listener.broker(0) });
    const port = first.port;
    const c = sdk.client(listener.url(port), FAST);
    await c.waitConnected();
    expect((await c.request('before')).toString()).toBe('before');
    await first.stop();
    const down = await c.waitDisconnected();
    expect(down).toMatchObject({ wasConnected: true, closedByClient: false, willReconnect: true });
    await sdk.broker({ plugin: ECHO_WASM, ...listener.broker(port) });
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
    const tb = await sdk.broker({ plugin: ECHO_WASM, ...listener.broker(0) });
    const c = sdk.client(listener.url(tb.port), FAST);
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

/** Frames a byte stream holds (decimal framing). */
function frames(chunks: readonly Buffer[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  new DecimalDecoder((b) => out.push(b), 1 << 20).push(Buffer.concat(chunks));
  return out;
}
const heartbeats = (chunks: readonly Buffer[]): number => frames(chunks).filter((f) => f.length === 0).length;

describe('BrokerClient heartbeats over tcp:// (seen through a tap between client and broker)', () => {
  const sdk = useSdkClients();
  let tap: TcpTap | undefined;
  afterEach(async () => {
    await tap?.close();
    tap = undefined;
  });

  it('sends heartbeats when the broker is silent, and the broker answers each', async () => {
    const tb = await sdk.broker({ plugin: ECHO_WASM, pingIntervalMs: 0, idleTimeoutMs: 0 });
    tap = await TcpTap.start(tb.port);
    const c = sdk.client(`tcp://127.0.0.1:${tap.port}`, { pingIntervalMs: 50, idleTimeoutMs: 10_000 });
    await c.waitConnected();
    await tap.until((b) => heartbeats(b.toBroker) >= 3 && heartbeats(b.toClient) >= 3, 'three heartbeats each way');
    expect(c.messages).toEqual([]); // heartbeats are not messages
    expect(c.disconnected).toEqual([]);
  });

  it('answers the broker’s heartbeats, so the broker’s idle timeout never fires', async () => {
    const tb = await sdk.broker({ plugin: ECHO_WASM, pingIntervalMs: 50, idleTimeoutMs: 0 });
    tap = await TcpTap.start(tb.port);
    const c = sdk.client(`tcp://127.0.0.1:${tap.port}`, { pingIntervalMs: 0, idleTimeoutMs: 0 });
    await c.waitConnected();
    await tap.until((b) => heartbeats(b.toClient) >= 3 && heartbeats(b.toBroker) >= 3, 'three broker heartbeats answered');
    expect(c.disconnected).toEqual([]);
  });

  it('drops a connection that went silent (idleTimeoutMs) and reconnects', async () => {
    const tb = await sdk.broker({ plugin: ECHO_WASM, pingIntervalMs: 0, idleTimeoutMs: 0 });
    tap = await TcpTap.start(tb.port);
    const c = sdk.client(`tcp://127.0.0.1:${tap.port}`, { pingIntervalMs: 100, idleTimeoutMs: 400, ...FAST });
    await c.waitConnected();
    tap.blackhole = true;
    const down = await c.waitDisconnected();
    expect(down).toMatchObject({ wasConnected: true, willReconnect: true, error: { code: 'PB_ERR_CLIENT_IDLE_TIMEOUT' } });
    tap.blackhole = false;
    await c.waitConnected(2);
    expect((await c.request('back')).toString()).toBe('back');
  });
});
