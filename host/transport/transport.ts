/**
 * The one interface every listener produces for a client connection (after nats.js
 * core/src/transport.ts). Nothing above this folder imports `node:net`, `node:tls` or `ws`.
 */
import type { FrameError } from '../errors.js';
import type { FrameHeaderCodec, FramingName } from '../framing/frame-codec.js';
import type { CloseReason, TransportKind } from '../plugin/world.js';

/** Receives what happens on a transport. One handler per transport, set once by `attach`. */
export interface TransportHandler {
  /** Bytes from the peer, in order (byte-stream transports). The chunk is never reused by the transport. */
  onData(chunk: Buffer): void;
  /** One whole frame from the peer (message transports: a WebSocket message). */
  onMessage(body: Uint8Array): void;
  /** The peer showed it is alive without sending a frame (a WebSocket ping or pong). */
  onLife(): void;
  /** The peer broke the transport's own framing (message transports; the transport has answered it). */
  onProtocolError(err: FrameError): void;
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
  /** Whether the bytes are encrypted (TLS: `tls://`, `wss://`). */
  readonly secure: boolean;
  /**
   * How inbound frames arrive: through `onData`, to be decoded with this stream framing, or
   * `'messages'`: whole frames through `onMessage`.
   */
  readonly inbound: FramingName | 'messages';
  /**
   * How outbound frames are written: the header codec whose frames `write`/`writev` take as
   * bytes, or null when each Buffer given to `write`/`writev` is one message body that the
   * transport frames itself (WebSocket with compression).
   */
  readonly outbound: FrameHeaderCodec | null;
  /** Peer IP address as text; empty if the socket closed before it was known. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Bytes accepted by `write` and not yet handed to the kernel. */
  readonly bufferedBytes: number;
  /**
   * True when a `write` made while `bufferedBytes` is 0 has consumed the bytes before it returns,
   * even though `bufferedBytes` stays above 0 until the write completes: TLS, whose write encrypts
   * the buffer (or copies it) at once. The caller may then reuse the buffer. Absent: false.
   */
  readonly copiesWrites?: boolean;
  /** Sets the handler and starts reading. */
  attach(handler: TransportHandler): void;
  /** Queues bytes (or one message body, see `outbound`) for the peer. */
  write(data: Buffer): void;
  /** Queues several buffers for the peer, in order, in as few writes as the transport can. */
  writev(data: readonly Buffer[]): void;
  /**
   * A heartbeat of the transport's own (a WebSocket ping), or absent: the broker then sends an
   * empty frame.
   */
  ping?(): void;
  /** Stops reading from the peer (bytes stay in the kernel). */
  pause(): void;
  /** Closes gracefully after queued bytes are written, telling the peer `reason` where the transport can (WebSocket close code). */
  end(reason?: CloseReason): void;
  /** Closes at once, dropping queued bytes. */
  destroy(): void;
}
