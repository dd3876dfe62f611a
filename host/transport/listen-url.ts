/**
 * `--listen` URLs: `tcp://host:port`, `tls://host:port` (both with `?framing=decimal|binary`),
 * `ws://host:port/path` and `wss://host:port/path`. Parsed once, with the option validation, into
 * a `ListenerSpec`; every way a URL can be wrong is an `InvalidOptionError` naming it.
 */
import { InvalidOptionError } from '../errors.js';
import { FRAMINGS, type FramingName } from '../framing/frame-codec.js';

/** Listener schemes. `tls` and `wss` need a certificate (`tlsCert`/`tlsKey`). */
export const LISTEN_SCHEMES = ['tcp', 'tls', 'ws', 'wss'] as const;
export type ListenScheme = (typeof LISTEN_SCHEMES)[number];

/** One listener, parsed. */
export interface ListenerSpec {
  readonly scheme: ListenScheme;
  /** Address to bind (an IPv6 address without brackets). */
  readonly host: string;
  /** Port to bind; 0 picks a free one. */
  readonly port: number;
  /** `ws`/`wss`: the one path upgrades are accepted on (`/` when the URL has none). Empty for `tcp`/`tls`. */
  readonly path: string;
  /** `tcp`/`tls`: the stream framing. `ws`/`wss`: `decimal`, unused (a message is a frame). */
  readonly framing: FramingName;
}

/** Whether listeners of `scheme` speak TLS. */
export function isSecureScheme(scheme: ListenScheme): boolean {
  return scheme === 'tls' || scheme === 'wss';
}

/** Whether listeners of `scheme` speak WebSocket. */
export function isWebSocketScheme(scheme: ListenScheme): boolean {
  return scheme === 'ws' || scheme === 'wss';
}

const EXPECTED = 'a URL tcp://host:port, tls://host:port (either with ?framing=decimal|binary), ws://host:port/path or wss://host:port/path';

/**
 * Parses one `--listen` URL.
 * @throws {InvalidOptionError} (option `listen`) naming what is wrong.
 */
export function parseListenUrl(text: string): ListenerSpec {
  const r = tryParseListenUrl(text);
  if ('problem' in r) throw new InvalidOptionError('listen', text, r.problem);
  return r;
}

/** Parses one `--listen` URL, or says what it must be instead (`problem` completes "must be …"). */
export function tryParseListenUrl(text: unknown): ListenerSpec | { problem: string } {
  const bad = (why: string) => ({ problem: `${EXPECTED}: ${why}` });
  if (typeof text !== 'string') return bad('not a string');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return bad('not a URL');
  }
  const scheme = url.protocol.slice(0, -1) as ListenScheme;
  if (!(LISTEN_SCHEMES as readonly string[]).includes(scheme)) return bad(`unknown scheme ${url.protocol}//`);
  if (url.username !== '' || url.password !== '') return bad('no user or password');
  if (url.hash !== '') return bad('no #fragment');
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '') return bad('a host is needed');
  const ws = isWebSocketScheme(scheme);
  // WHATWG URL drops a ws port equal to the scheme's default (80, 443): that is what it means.
  if (url.port === '' && !ws) return bad('a port is needed (0 picks a free one)');
  const port = url.port !== '' ? Number(url.port) : scheme === 'ws' ? 80 : 443;
  let framing: FramingName = 'decimal';
  const params = [...url.searchParams];
  if (ws) {
    if (url.search !== '') return bad(`a ${scheme}:// listener takes no query (each WebSocket message is one frame)`);
  } else {
    if (url.pathname !== '' && url.pathname !== '/') return bad(`a ${scheme}:// listener has no path`);
    for (const [key, value] of params) {
      if (key !== 'framing') return bad(`unknown query parameter '${key}' (only framing=decimal|binary)`);
      if (!(FRAMINGS as readonly string[]).includes(value)) return bad(`framing must be ${FRAMINGS.join(' or ')}, got '${value}'`);
    }
    if (params.length > 1) return bad('framing given more than once');
    if (params.length === 1) framing = params[0][1] as FramingName;
  }
  return Object.freeze({ scheme, host, port, path: ws ? url.pathname || '/' : '', framing });
}

/** The URL of `spec` in canonical form, with `port` (default: the spec's) in place of its port. */
export function formatListenUrl(spec: ListenerSpec, port: number = spec.port): string {
  const host = spec.host.includes(':') ? `[${spec.host}]` : spec.host;
  const query = !isWebSocketScheme(spec.scheme) && spec.framing !== 'decimal' ? `?framing=${spec.framing}` : '';
  return `${spec.scheme}://${host}:${port}${spec.path}${query}`;
}
