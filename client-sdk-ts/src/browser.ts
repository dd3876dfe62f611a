/**
 * The browser build: `BrokerClient` over the browser's own `WebSocket`. No runtime dependency and
 * nothing from Node: this module and everything it imports run as plain ES modules in a page.
 * `tcp://` and `tls://` are refused (a page cannot open raw sockets).
 */
import { BrokerClientCore } from './client.js';
import { UnsupportedTransportError } from './errors.js';
import type { BrokerClientOptions } from './options.js';
import type { TransportFactory } from './transport.js';
import { WebSocketTransport, type WebSocketLike } from './transports/websocket.js';
import { parseBrokerUrl } from './url.js';

export * from './exports.js';

const browserTransports: TransportFactory = (target, events) => {
  const ws = new WebSocket(target.url) as unknown as WebSocketLike;
  return new WebSocketTransport(ws, target.url, events);
};

/** A connection to a plugbroker over `ws://` or `wss://`, reconnecting by itself. See the README. */
export class BrokerClient extends BrokerClientCore {
  /**
   * Starts connecting to `url` (`ws://host:port/path` or `wss://…`) at once.
   * @throws {InvalidUrlError} for a URL the client cannot use.
   * @throws {UnsupportedTransportError} for `tcp://` and `tls://`.
   * @throws {InvalidOptionError} for an option out of its domain.
   */
  constructor(url: string, options: BrokerClientOptions = {}) {
    const target = parseBrokerUrl(url);
    if (target.kind !== 'websocket') throw new UnsupportedTransportError(target.scheme, 'a browser');
    if (typeof WebSocket !== 'function') throw new UnsupportedTransportError(target.scheme, 'this environment (no global WebSocket)');
    super(url, options, browserTransports);
  }
}
