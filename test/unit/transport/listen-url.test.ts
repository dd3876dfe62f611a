/**
 * `--listen` URL parsing: every accepted form, the canonical form with the bound port, and one
 * InvalidOptionError (option `listen`) for each way a URL can be wrong.
 */
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../host/errors.js';
import { formatListenUrl, parseListenUrl } from '../../../host/transport/listen-url.js';

function refused(text: string): InvalidOptionError {
  try {
    parseListenUrl(text);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as InvalidOptionError).code).toBe('PB_ERR_INVALID_OPTION');
    expect((err as InvalidOptionError).option).toBe('listen');
    return err as InvalidOptionError;
  }
  return expect.unreachable(`${text} was accepted`);
}

describe('parseListenUrl', () => {
  it('parses the four schemes', () => {
    expect(parseListenUrl('tcp://127.0.0.1:10241')).toEqual({ scheme: 'tcp', host: '127.0.0.1', port: 10241, path: '', framing: 'decimal' });
    expect(parseListenUrl('tls://0.0.0.0:0?framing=binary')).toEqual({ scheme: 'tls', host: '0.0.0.0', port: 0, path: '', framing: 'binary' });
    expect(parseListenUrl('ws://localhost:8080/chat')).toEqual({ scheme: 'ws', host: 'localhost', port: 8080, path: '/chat', framing: 'decimal' });
    expect(parseListenUrl('wss://[::1]:8443/a/b')).toEqual({ scheme: 'wss', host: '::1', port: 8443, path: '/a/b', framing: 'decimal' });
  });

  it('takes ?framing=decimal, a trailing slash on tcp://, and a WebSocket URL without a path (/)', () => {
    expect(parseListenUrl('tcp://h:1/?framing=decimal').framing).toBe('decimal');
    expect(parseListenUrl('ws://h:1').path).toBe('/');
  });

  it('gives ws:// and wss:// without a port their default ports 80 and 443', () => {
    expect(parseListenUrl('ws://h/x').port).toBe(80);
    expect(parseListenUrl('wss://h/x').port).toBe(443);
  });

  it.each([
    ['not a url', 'not a URL'],
    ['http://h:1', 'unknown scheme'],
    ['tcp://h', 'a port is needed'],
    ['tcp://h:70000', 'not a URL'],
    ['tcp://h:1/path', 'has no path'],
    ['tcp://h:1?framing=json', 'framing must be'],
    ['tcp://h:1?mode=x', "unknown query parameter 'mode'"],
    ['tcp://h:1?framing=binary&framing=decimal', 'more than once'],
    ['ws://h:1/x?framing=binary', 'takes no query'],
    ['tcp://u:p@h:1', 'no user'],
    ['ws://h:1/x#top', 'no #fragment'],
  ])('refuses %s', (text, why) => {
    expect(refused(text).message).toContain(why);
  });
});

describe('formatListenUrl', () => {
  it('writes the canonical URL with the bound port', () => {
    expect(formatListenUrl(parseListenUrl('tcp://127.0.0.1:0?framing=binary'), 4321)).toBe('tcp://127.0.0.1:4321?framing=binary');
    expect(formatListenUrl(parseListenUrl('tcp://127.0.0.1:0?framing=decimal'), 5)).toBe('tcp://127.0.0.1:5');
    expect(formatListenUrl(parseListenUrl('wss://[::1]:0/ws'), 9)).toBe('wss://[::1]:9/ws');
  });
});
