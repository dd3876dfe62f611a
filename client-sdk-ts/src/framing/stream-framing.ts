/**
 * The framing contract of the byte-stream transports (`tcp://`, `tls://`): a decoder turns bytes
 * into frames or one coded error, an encoder turns a body into bytes. Pure: no sockets, no timers,
 * no `Buffer` (plain `Uint8Array`), so the module runs anywhere.
 *
 * Why the client does not import the broker's decoders (host/framing/): those are tuned for the
 * server's hot path (Buffer views, pooled slabs) and tied to the broker's error catalogue, and a
 * cross-package import would make this package depend on the broker (jco, assemblyscript, …). The
 * protocol is small; the tests check this implementation against the broker's, byte for byte.
 */
import type { FrameError } from '../errors.js';

/** Receives the frames a decoder finds, in stream order. An empty body is a heartbeat. */
export type FrameHandler = (body: Uint8Array) => void;

/** An incremental decoder bound to one stream. */
export interface StreamDecoder {
  /**
   * Feeds the next chunk. Every frame completed by it is handed to the handler, in order, before
   * this returns. Returns the error that broke the stream (after the frames before it were
   * delivered), or null; once failed, the decoder returns the same error for every later chunk.
   */
  push(chunk: Uint8Array): FrameError | null;
}

/** Names of the stream framings (`?framing=` of a `tcp://` or `tls://` URL). */
export const STREAM_FRAMINGS = ['decimal', 'binary'] as const;
export type StreamFraming = (typeof STREAM_FRAMINGS)[number];

/** A framing: how to make a decoder and how to encode one body. */
export interface StreamCodec {
  readonly name: StreamFraming;
  createDecoder(onFrame: FrameHandler, maxFrameBytes: number): StreamDecoder;
  encode(body: Uint8Array): Uint8Array;
  /** The heartbeat frame (a frame with an empty body). */
  readonly heartbeat: Uint8Array;
}

/**
 * Appends bytes to a body under assembly: the buffer grows by doubling (capped at the declared
 * length) with the bytes actually received, so a peer that declares a large frame and sends
 * little costs little.
 */
export class BodyBuffer {
  #bytes: Uint8Array | null = null;
  #filled = 0;

  get filled(): number {
    return this.#filled;
  }

  append(chunk: Uint8Array, from: number, to: number, declared: number): void {
    const need = this.#filled + (to - from);
    let bytes = this.#bytes;
    if (bytes === null || bytes.length < need) {
      const grown = new Uint8Array(Math.min(declared, Math.max(need, 2 * (bytes?.length ?? 0), 4096)));
      if (bytes !== null) grown.set(bytes.subarray(0, this.#filled));
      this.#bytes = bytes = grown;
    }
    bytes.set(chunk.subarray(from, to), this.#filled);
    this.#filled = need;
  }

  /** The assembled body (exactly `filled` bytes); resets the buffer. */
  take(): Uint8Array {
    const bytes = this.#bytes!;
    const body = bytes.length === this.#filled ? bytes : bytes.subarray(0, this.#filled);
    this.#bytes = null;
    this.#filled = 0;
    return body;
  }

  clear(): void {
    this.#bytes = null;
    this.#filled = 0;
  }
}
