/**
 * Incremental decoder for the binary framing: a 4-byte big-endian body length, then exactly that
 * many body bytes. Length 0 is an empty frame (the heartbeat, as `0\n` is in the decimal framing).
 * Every 32-bit value is a well-formed header, so the one protocol error is a length above
 * `maxFrameBytes`, reported as soon as the fourth header byte arrives, before any body byte is
 * buffered.
 *
 * The same state machine shape as decimal-decoder.ts (READ_HEADER → READ_BODY, after nats.js
 * core/src/parser.ts), with the same body handling: a body inside one chunk is handed out as a
 * view; a body that spans chunks is copied into a buffer that grows with the bytes received
 * (doubling, capped at the declared length), so a peer that declares a large frame and sends little
 * costs little.
 */
import { FrameError, FrameTooLargeError } from '../errors.js';
import type { FrameDecoder, FrameSink } from './frame-codec.js';
import { BINARY_HEADER_BYTES } from './binary-encoder.js';

const enum State {
  /** Reading header bytes; `#headerFilled` of them are in. */
  ReadHeader,
  /** Collecting `#remaining` body bytes. */
  ReadBody,
  /** A protocol error happened; `#error` holds it. */
  Failed,
  /** The consumer called `halt()`. */
  Halted,
}

const EMPTY = Buffer.alloc(0);

/** Decoder for 4-byte big-endian length-prefixed frames. One instance per stream. */
export class BinaryDecoder implements FrameDecoder {
  readonly #sink: FrameSink;
  readonly #maxFrameBytes: number;
  readonly #plainViews: boolean;
  #state: State = State.ReadHeader;
  #headerFilled = 0;
  #length = 0;
  #remaining = 0;
  /** Body being assembled across chunks, and how much of it is filled. */
  #body: Buffer | null = null;
  #filled = 0;
  /** Stream bytes consumed by earlier chunks, for error offsets. */
  #consumed = 0;
  #error: FrameError | null = null;

  /**
   * @param sink receives every decoded frame body.
   * @param maxFrameBytes largest body accepted; a larger declared length fails the stream with
   *   `PB_ERR_FRAME_TOO_LARGE` before the body is read.
   * @param opts.plainViews hand frames that lie inside one chunk out as plain `Uint8Array` views
   *   (see `DecimalDecoder`). Default false.
   */
  constructor(sink: FrameSink, maxFrameBytes: number, opts: { plainViews?: boolean } = {}) {
    this.#sink = sink;
    this.#maxFrameBytes = maxFrameBytes;
    this.#plainViews = opts.plainViews ?? false;
  }

  push(chunk: Buffer): FrameError | null {
    const n = chunk.length;
    let i = 0;
    const view: Uint8Array = this.#plainViews ? new Uint8Array(chunk.buffer, chunk.byteOffset, n) : chunk;
    while (i < n) {
      switch (this.#state) {
        case State.ReadHeader: {
          // Fast path: a whole header inside the chunk.
          if (this.#headerFilled === 0 && n - i >= BINARY_HEADER_BYTES) {
            this.#length = chunk.readUInt32BE(i);
            i += BINARY_HEADER_BYTES;
          } else {
            this.#length = this.#length * 256 + chunk[i++];
            if (++this.#headerFilled < BINARY_HEADER_BYTES) break;
          }
          if (this.#endHeader(i)) return this.#error;
          break;
        }
        case State.ReadBody: {
          const take = Math.min(this.#remaining, n - i);
          if (take === this.#length) {
            // The whole body is inside this chunk: a view, no copy.
            const body = view.subarray(i, i + take) as Buffer;
            i += take;
            this.#resetHeader();
            this.#sink.onFrame(body);
          } else {
            this.#append(chunk, i, take);
            this.#remaining -= take;
            i += take;
            if (this.#remaining === 0) {
              const body = this.#body!;
              this.#body = null;
              this.#resetHeader();
              this.#sink.onFrame(body);
            }
          }
          break;
        }
        case State.Failed:
          return this.#error;
        case State.Halted:
          return null;
      }
    }
    this.#consumed += n;
    return this.#state === State.Failed ? this.#error : null;
  }

  halt(): void {
    if (this.#state !== State.Failed) this.#state = State.Halted;
    this.#body = null;
  }

  /** The header ended just before `chunk[i]`. Returns true when the stream failed. */
  #endHeader(i: number): boolean {
    const length = this.#length;
    if (length > this.#maxFrameBytes) {
      this.#state = State.Failed;
      this.#error = new FrameTooLargeError(length, this.#maxFrameBytes, this.#consumed + i);
      return true;
    }
    if (length === 0) {
      this.#resetHeader();
      this.#sink.onFrame(EMPTY);
      return false;
    }
    this.#state = State.ReadBody;
    this.#remaining = length;
    return false;
  }

  /** Copies `chunk[i, i + take)` into the body under assembly, growing it as needed. */
  #append(chunk: Buffer, i: number, take: number): void {
    const need = this.#filled + take;
    let body = this.#body;
    if (body === null || body.length < need) {
      const grown = Buffer.allocUnsafe(Math.min(this.#length, Math.max(need, 2 * (body?.length ?? 0), 4096)));
      if (body !== null) body.copy(grown, 0, 0, this.#filled);
      this.#body = body = grown;
    }
    chunk.copy(body, this.#filled, i, i + take);
    this.#filled = need;
  }

  #resetHeader(): void {
    // Called before the sink sees the frame, so that a halt() from inside onFrame sticks.
    this.#state = State.ReadHeader;
    this.#headerFilled = 0;
    this.#length = 0;
    this.#remaining = 0;
    this.#filled = 0;
  }
}
