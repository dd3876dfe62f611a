/**
 * The Node build: `BrokerClient` over `ws` for `ws://`/`wss://` and over `node:net`/`node:tls` for
 * `tcp://`/`tls://` with either framing.
 */
import WebSocket from 'ws';
import { BrokerClientCore } from './client.js';
import { ConnectFailedError, FrameTooLargeError, InvalidOptionError, type ClientError } from './errors.js';
import type { BrokerClientOptions } from './options.js';
import type { TransportFactory } from './transport.js';
import { StreamTransport, type ClientTlsOptions } from './transports/stream.js';
import { WebSocketTransport, type WebSocketHooks, type WebSocketLike } from './transports/websocket.js';

export * from './exports.js';
export type { ClientTlsOptions } from './transports/stream.js';

/** Options of the Node `BrokerClient`: the common ones plus TLS and the WebSocket `Origin`. */
export interface NodeBrokerClientOptions extends BrokerClientOptions {
  /** TLS settings for `tls://` and `wss://` (trust a self-signed broker with `ca`). */
  tls?: ClientTlsOptions;
  /** The `Origin` header of the WebSocket upgrade (browsers set it themselves). Default: none. */
  origin?: string;
}

const TLS_KEYS = new Set(['ca', 'cert', 'key', 'rejectUnauthorized', 'servername']);

/** `ws` surfaces pings, termination and the reason an upgrade failed; the browser API does not. */
function wsHooks(url: string, maxFrameBytes: number): WebSocketHooks {
  return {
    onMessage: (ws, listener) => (ws as unknown as WebSocket).on('message', listener),
    onPing: (ws, listener) => (ws as unknown as WebSocket).on('ping', listener),
    terminate: (ws) => (ws as unknown as WebSocket).terminate(),
    describeError(ev, opened): ClientError | undefined {
      const err = (ev as { error?: Error & { code?: string } }).error;
      // ws checks maxPayload before buffering a message and closes with 1009.
      if (err?.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return new FrameTooLargeError(maxFrameBytes + 1, maxFrameBytes, 0);
      return opened ? undefined : new ConnectFailedError(url, { cause: err });
    },
  };
}

/** A connection to a plugbroker over any of its listeners, reconnecting by itself. See the README. */
export class BrokerClient extends BrokerClientCore {
  /**
   * Starts connecting to `url` (`ws://host:port/path`, `wss://…`, `tcp://host:port`,
   * `tls://host:port`, the last two with `?framing=decimal|binary`) at once.
   * @throws {InvalidUrlError} for a URL the client cannot use.
   * @throws {InvalidOptionError} for an option out of its domain.
   */
  constructor(url: string, options: NodeBrokerClientOptions = {}) {
    const tlsOptions = checkTls(options.tls);
    if (options.origin !== undefined && typeof options.origin !== 'string') throw new InvalidOptionError('origin', options.origin, 'a string');
    const factory: TransportFactory = (target, events, maxFrameBytes) => {
      if (target.kind === 'tcp') return new StreamTransport(target, events, maxFrameBytes, tlsOptions);
      const ws = new WebSocket(target.url, {
        maxPayload: maxFrameBytes,
        perMessageDeflate: false,
        origin: options.origin,
        ...(target.secure ? tlsOptions : {}),
      });
      return new WebSocketTransport(ws as unknown as WebSocketLike, target.url, events, wsHooks(target.url, maxFrameBytes));
    };
    super(url, options, factory, ['tls', 'origin']);
  }
}

function checkTls(value: unknown): ClientTlsOptions {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object') throw new InvalidOptionError('tls', value, 'an object { ca, cert, key, rejectUnauthorized, servername }');
  for (const key of Object.keys(value)) {
    if (!TLS_KEYS.has(key)) throw new InvalidOptionError(`tls.${key}`, (value as Record<string, unknown>)[key], `absent: there is no option 'tls.${key}'`);
  }
  const v = value as ClientTlsOptions;
  if (v.rejectUnauthorized !== undefined && typeof v.rejectUnauthorized !== 'boolean')
    throw new InvalidOptionError('tls.rejectUnauthorized', v.rejectUnauthorized, 'a boolean');
  if (v.servername !== undefined && typeof v.servername !== 'string') throw new InvalidOptionError('tls.servername', v.servername, 'a string');
  return v;
}
