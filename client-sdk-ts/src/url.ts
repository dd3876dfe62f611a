/**
 * Broker URLs: `ws://host[:port]/path`, `wss://host[:port]/path`, and (Node only)
 * `tcp://host:port` and `tls://host:port`, each with an optional `?framing=decimal|binary`. The
 * same forms as the broker's `--listen`, so one string names both ends.
 */
import { InvalidUrlError } from './errors.js';
import { STREAM_FRAMINGS, type StreamFraming } from './framing/stream-framing.js';

/** How the client reaches the broker. */
export type TransportKind = 'websocket' | 'tcp';

/** A parsed, validated broker URL. */
export interface BrokerTarget {
  /** The URL as given. */
  readonly url: string;
  /** `ws:`, `wss:`, `tcp:` or `tls:`. */
  readonly scheme: 'ws:' | 'wss:' | 'tcp:' | 'tls:';
  readonly kind: TransportKind;
  /** True over `wss://` and `tls://`. */
  readonly secure: boolean;
  /** Host name or address, without IPv6 brackets. */
  readonly host: string;
  readonly port: number;
  /** The stream framing (`tcp://`, `tls://`); `undefined` for WebSocket (one message is one frame). */
  readonly framing: StreamFraming | undefined;
}

const SCHEMES = new Set(['ws:', 'wss:', 'tcp:', 'tls:']);

/**
 * Parses and checks `url`.
 * @throws {InvalidUrlError} for anything but the four schemes, a missing host, a missing port on
 *   `tcp://`/`tls://`, a path on them, or a `framing` other than `decimal`/`binary` (or on WebSocket).
 */
export function parseBrokerUrl(url: string): BrokerTarget {
  if (typeof url !== 'string') throw new InvalidUrlError(String(url), 'expected a string');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidUrlError(url, 'not a URL (expected ws://host:port/path, wss://…, tcp://host:port or tls://host:port)');
  }
  if (!SCHEMES.has(u.protocol)) throw new InvalidUrlError(url, `unsupported scheme ${u.protocol}// (expected ws://, wss://, tcp:// or tls://)`);
  const scheme = u.protocol as BrokerTarget['scheme'];
  const kind: TransportKind = scheme === 'ws:' || scheme === 'wss:' ? 'websocket' : 'tcp';
  if (u.hostname === '') throw new InvalidUrlError(url, 'no host');
  if (u.username !== '' || u.password !== '') throw new InvalidUrlError(url, 'credentials in the URL are not supported');
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const framingParam = u.searchParams.get('framing');
  let framing: StreamFraming | undefined;
  let port: number;
  if (kind === 'tcp') {
    if (u.port === '') throw new InvalidUrlError(url, `${scheme}// needs a port`);
    if (u.pathname !== '' && u.pathname !== '/') throw new InvalidUrlError(url, `${scheme}// takes no path`);
    if (framingParam !== null && !(STREAM_FRAMINGS as readonly string[]).includes(framingParam)) {
      throw new InvalidUrlError(url, `framing must be decimal or binary, got ${JSON.stringify(framingParam)}`);
    }
    framing = (framingParam ?? 'decimal') as StreamFraming;
    port = Number(u.port);
  } else {
    if (framingParam !== null) throw new InvalidUrlError(url, 'framing applies to tcp:// and tls:// only (one WebSocket message is one frame)');
    port = u.port === '' ? (scheme === 'wss:' ? 443 : 80) : Number(u.port);
  }
  if (port === 0) throw new InvalidUrlError(url, 'port 0');
  return Object.freeze({ url, scheme, kind, secure: scheme === 'wss:' || scheme === 'tls:', host, port, framing });
}
