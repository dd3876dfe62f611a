/**
 * The one interface every transport of the client implements (after nats.js core/src/transport.ts):
 * the client core (client.ts) never touches a socket, and nothing above transports/ imports `ws`,
 * `node:net` or `node:tls`.
 */
import type { ClientError } from './errors.js';
import type { BrokerTarget } from './url.js';

/** How a transport ended. */
export interface TransportCloseInfo {
  /** The WebSocket close code (1006 when the connection was lost); undefined for byte streams. */
  readonly code?: number;
  /** What went wrong, when something did (refused, TLS, idle timeout, bad frame…). */
  readonly error?: ClientError;
}

/** What a transport reports. One handler per transport, given when it is created. */
export interface TransportEvents {
  /** The connection is established (TCP + TLS handshake, or the WebSocket upgrade). */
  onOpen(): void;
  /** One frame with a non-empty body, in order. */
  onFrame(body: Uint8Array): void;
  /** A heartbeat from the broker: an empty frame (`0\n`, `00 00 00 00`) or an empty WebSocket message. */
  onHeartbeat(): void;
  /** A sign of life that is not a frame (a WebSocket ping, which `ws` answers by itself). */
  onAlive(): void;
  /** The transport is closed, for whatever cause; called exactly once, also when it never opened. */
  onClose(info: TransportCloseInfo): void;
}

/** A connection to the broker. */
export interface ClientTransport {
  /** Sends one frame. Strings go as UTF-8 (a text message over WebSocket). */
  send(data: Uint8Array | string): void;
  /** Sends a heartbeat: an empty frame, or an empty WebSocket message. */
  sendHeartbeat(): void;
  /** Closes gracefully: a WebSocket close handshake (1000), or a TCP half-close after queued bytes. */
  close(): void;
  /** Closes at once; `error` is what `onClose` reports. */
  destroy(error?: ClientError): void;
}

/**
 * Opens a transport to `target`; events arrive asynchronously, never from inside this call.
 * `maxFrameBytes` bounds what the transport accepts from the broker.
 */
export type TransportFactory = (target: BrokerTarget, events: TransportEvents, maxFrameBytes: number) => ClientTransport;
