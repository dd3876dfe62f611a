/**
 * The one interface every listener produces for a client connection (after nats.js
 * core/src/transport.ts). Nothing above this folder imports `node:net` or `ws`.
 */
import type { TransportKind } from '../plugin/world.js';

/** Receives what happens on a transport. One handler per transport, set once by `attach`. */
export interface TransportHandler {
  /** Bytes from the peer, in order. The chunk is never reused by the transport. */
  onData(chunk: Buffer): void;
  /** The peer finished sending (TCP FIN); writing is still possible. */
  onEnd(): void;
  /** The transport is fully closed, for whatever cause. Called exactly once. */
  onClose(): void;
  /** A transport error (reset, …); `onClose` follows. */
  onError(err: Error): void;
}

/** A client connection as the broker sees it. */
export interface Transport {
  readonly kind: TransportKind;
  /** Peer IP address as text; empty if the socket closed before it was known. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Bytes accepted by `write` and not yet handed to the kernel. */
  readonly bufferedBytes: number;
  /** Sets the handler and starts reading. */
  attach(handler: TransportHandler): void;
  /** Queues bytes for the peer. */
  write(data: Buffer): void;
  /** Queues several buffers for the peer, in order, in as few writes as the transport can. */
  writev(data: readonly Buffer[]): void;
  /** Stops reading from the peer (bytes stay in the kernel). */
  pause(): void;
  /** Half-closes after queued bytes are written. */
  end(): void;
  /** Closes at once, dropping queued bytes. */
  destroy(): void;
}
