/**
 * Listener options (issue #10): `listen`, `tlsCert`/`tlsKey`, `wsCompression`, `wsAllowedOrigins`
 * and `handshakeTimeoutMs`, each wrong value one InvalidOptionError naming its option. (Loading a
 * real certificate is tested in test/integration/tls.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { resolveOptions, type BrokerOptions } from '../../host/config.js';
import { InvalidOptionError } from '../../host/errors.js';

const PLUGIN = 'plugins/echo-wasm/build/echo.wasm';

function refusedOption(opts: Omit<BrokerOptions, 'plugin'>): string {
  try {
    resolveOptions({ plugin: PLUGIN, ...opts });
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as InvalidOptionError).code).toBe('PB_ERR_INVALID_OPTION');
    return (err as InvalidOptionError).option;
  }
  return expect.unreachable('accepted');
}

describe('resolveOptions: listeners', () => {
  it('makes one tcp:// listener from host and port when listen is absent', () => {
    expect(resolveOptions({ plugin: PLUGIN, host: '0.0.0.0', port: 7 }).listen).toEqual([
      { scheme: 'tcp', host: '0.0.0.0', port: 7, path: '', framing: 'decimal' },
    ]);
  });

  it('parses every listen URL in order', () => {
    const o = resolveOptions({ plugin: PLUGIN, listen: ['tcp://127.0.0.1:0?framing=binary', 'ws://127.0.0.1:0/ws'] });
    expect(o.listen.map((l) => `${l.scheme}:${l.framing}:${l.path}`)).toEqual(['tcp:binary:', 'ws:decimal:/ws']);
  });

  it('refuses listen together with host or port, an empty list, a bad URL and a port given twice', () => {
    expect(refusedOption({ listen: ['tcp://127.0.0.1:0'], port: 1 })).toBe('port');
    expect(refusedOption({ listen: ['tcp://127.0.0.1:0'], host: '::1' })).toBe('host');
    expect(refusedOption({ listen: [] })).toBe('listen');
    expect(refusedOption({ listen: ['udp://h:1'] })).toBe('listen');
    expect(refusedOption({ listen: ['tcp://127.0.0.1:9000', 'ws://127.0.0.1:9000/ws'] })).toBe('listen');
  });

  it('allows several listeners on port 0', () => {
    expect(resolveOptions({ plugin: PLUGIN, listen: ['tcp://127.0.0.1:0', 'tcp://127.0.0.1:0'] }).listen).toHaveLength(2);
  });

  it('requires tlsCert and tlsKey exactly when a tls:// or wss:// listener is given', () => {
    expect(refusedOption({ listen: ['tls://127.0.0.1:0'] })).toBe('tlsCert');
    expect(refusedOption({ listen: ['wss://127.0.0.1:0/ws'], tlsCert: 'c.pem' })).toBe('tlsKey');
    expect(refusedOption({ listen: ['tcp://127.0.0.1:0'], tlsCert: 'c.pem', tlsKey: 'k.pem' })).toBe('tlsCert');
    expect(refusedOption({ tlsKey: 'k.pem' })).toBe('tlsKey');
  });

  it('names tlsCert when the certificate file cannot be read', () => {
    expect(refusedOption({ listen: ['tls://127.0.0.1:0'], tlsCert: '/nonexistent/cert.pem', tlsKey: '/nonexistent/key.pem' })).toBe('tlsCert');
  });

  it('takes WebSocket options only with a ws:// or wss:// listener', () => {
    expect(refusedOption({ wsCompression: true })).toBe('wsCompression');
    expect(refusedOption({ wsAllowedOrigins: ['https://a.example'] })).toBe('wsAllowedOrigins');
    const o = resolveOptions({
      plugin: PLUGIN,
      listen: ['ws://127.0.0.1:0/'],
      wsCompression: true,
      wsAllowedOrigins: 'https://a.example, http://localhost:8080',
    });
    expect(o.wsCompression).toBe(true);
    expect(o.wsAllowedOrigins).toEqual(['https://a.example', 'http://localhost:8080']);
  });

  it('refuses an allowed origin that is not scheme://host[:port]', () => {
    for (const bad of ['a.example', 'https://a.example/path', 'ftp//x', 'null']) {
      expect(refusedOption({ listen: ['ws://127.0.0.1:0/'], wsAllowedOrigins: [bad] })).toBe('wsAllowedOrigins');
    }
  });

  it('defaults handshakeTimeoutMs to 10 s and refuses 0', () => {
    expect(resolveOptions({ plugin: PLUGIN }).handshakeTimeoutMs).toBe(10_000);
    expect(refusedOption({ handshakeTimeoutMs: 0 })).toBe('handshakeTimeoutMs');
  });
});
