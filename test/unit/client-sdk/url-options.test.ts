/** Broker URLs and client options are checked once, in the constructor, with coded errors. */
import { describe, expect, it } from 'vitest';
import { resolveClientOptions, type BrokerClientOptions } from '../../../client-sdk-ts/src/options.js';
import { parseBrokerUrl } from '../../../client-sdk-ts/src/url.js';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('parseBrokerUrl', () => {
  it.each([
    ['ws://127.0.0.1:8080/ws', { kind: 'websocket', secure: false, host: '127.0.0.1', port: 8080, framing: undefined }],
    ['wss://example.test/chat', { kind: 'websocket', secure: true, host: 'example.test', port: 443, framing: undefined }],
    ['ws://example.test', { kind: 'websocket', secure: false, port: 80 }],
    ['tcp://127.0.0.1:10241', { kind: 'tcp', secure: false, host: '127.0.0.1', port: 10241, framing: 'decimal' }],
    ['tcp://127.0.0.1:10241?framing=binary', { kind: 'tcp', framing: 'binary' }],
    ['tls://localhost:7443?framing=decimal', { kind: 'tcp', secure: true, host: 'localhost', framing: 'decimal' }],
    ['tcp://[::1]:7000', { host: '::1', port: 7000 }],
  ])('accepts %s', (url, expected) => {
    expect(parseBrokerUrl(url)).toMatchObject({ url, ...expected });
  });

  it.each([
    ['not a url'],
    ['http://127.0.0.1:80/'],
    ['udp://127.0.0.1:1'],
    ['tcp://127.0.0.1'],
    ['tcp://127.0.0.1:0'],
    ['tcp://127.0.0.1:1/path'],
    ['tcp://127.0.0.1:1?framing=json'],
    ['ws://127.0.0.1:1/?framing=binary'],
    ['ws://user:pw@127.0.0.1:1/'],
  ])('refuses %s with PB_ERR_CLIENT_INVALID_URL', (url) => {
    expect(codeOf(() => parseBrokerUrl(url))).toBe('PB_ERR_CLIENT_INVALID_URL');
  });
});

describe('resolveClientOptions', () => {
  it('defaults: reconnect 500 ms → 20 s forever, heartbeat 15 s / idle 45 s, connect 10 s, 1 MiB, no offline queue', () => {
    const o = resolveClientOptions({});
    expect(o.reconnect).toEqual({ initialDelayMs: 500, maxDelayMs: 20_000, maxAttempts: Infinity });
    expect(o).toMatchObject({ pingIntervalMs: 15_000, idleTimeoutMs: 45_000, connectTimeoutMs: 10_000, maxFrameBytes: 1 << 20, offlineQueueMaxFrames: 0 });
    expect([...o.terminalReasons]).toEqual(['refused-by-plugin', 'auth-timeout', 'protocol-error']);
  });

  it('takes partial backoff settings and reconnect: false', () => {
    expect(resolveClientOptions({ reconnect: { maxAttempts: 3 } }).reconnect).toEqual({ initialDelayMs: 500, maxDelayMs: 20_000, maxAttempts: 3 });
    expect(resolveClientOptions({ reconnect: { initialDelayMs: 30_000 } }).reconnect?.maxDelayMs).toBe(30_000);
    expect(resolveClientOptions({ reconnect: false }).reconnect).toBeUndefined();
  });

  it.each<[string, BrokerClientOptions]>([
    ['pingIntervalMs', { pingIntervalMs: -1 }],
    ['pingIntervalMs', { pingIntervalMs: 1.5 }],
    ['pingIntervalMs', { pingIntervalMs: 5000, idleTimeoutMs: 5000 }],
    ['idleTimeoutMs', { idleTimeoutMs: 2 ** 31 }],
    ['connectTimeoutMs', { connectTimeoutMs: 0 }],
    ['maxFrameBytes', { maxFrameBytes: 0 }],
    ['maxFrameBytes', { maxFrameBytes: 2 ** 32 }],
    ['offlineQueueMaxFrames', { offlineQueueMaxFrames: -1 }],
    ['terminalReasons', { terminalReasons: ['nope'] as never }],
    ['reconnect', { reconnect: 'yes' as never }],
    ['reconnect.initialDelayMs', { reconnect: { initialDelayMs: 0 } }],
    ['reconnect.maxDelayMs', { reconnect: { initialDelayMs: 1000, maxDelayMs: 999 } }],
    ['reconnect.maxAttempts', { reconnect: { maxAttempts: -1 } }],
    ['reconnect.jitter', { reconnect: { jitter: true } as never }],
    ['pingInterval', { pingInterval: 5 } as never],
  ])('refuses a bad %s with PB_ERR_CLIENT_INVALID_OPTION naming it', (option, opts) => {
    let err: { code?: string; option?: string } | undefined;
    try {
      resolveClientOptions(opts);
    } catch (e) {
      err = e as typeof err;
    }
    expect(err?.code).toBe('PB_ERR_CLIENT_INVALID_OPTION');
    expect(err?.option).toBe(option);
  });
});
