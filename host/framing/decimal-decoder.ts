/**
 * Incremental decoder for the `<length>\n<body>` framing (the telnet-friendly protocol of the
 * original broker): an ASCII decimal length of at most `MAX_LENGTH_DIGITS` digits, an optional `\r`
 * before the `\n`, then exactly `length` body bytes (binary safe). Empty lines (CR/LF) between
 * frames are ignored because telnet sends CRLF after the body the user typed.
 *
 * A small explicit state machine, READ_LENGTH → (READ_LENGTH_CR) → READ_BODY, after nats.js
 * core/src/parser.ts. The declared length is checked against `maxFrameBytes` as soon as the header
 * line ends, before any body byte is buffered. A body that spans chunks is copied into a buffer that
 * grows (doubling, capped at the declared length) with the bytes actually received: a peer that
 * declares a large frame and sends little costs little, and a peer that trickles a body in one-byte
 * segments costs no more than the body (keeping one slice per chunk would cost ≈ 450 bytes each).
 */
import { FrameBadLengthError, FrameError, FrameHeaderTooLongError, FrameTooLargeError } from '../errors.js';
import { MAX_LENGTH_DIGITS } from '../limits.js';
import type { FrameDecoder, FrameSink } from './frame-codec.js';

const CH_0 = 0x30;
const CH_9 = 0x39;
const CH_LF = 0x0a;
const CH_CR = 0x0d;

const enum State {
  /** Reading length digits; `#digits === 0` means between frames (blank lines allowed). */
  ReadLength,
  /** Saw `\r` after the digits (or on a blank line); only `\n` may follow. */
  ReadLengthCr,
  /** Collecting `#remaining` body bytes. */
  ReadBody,
  /** A protocol error happened; `#error` holds it. */
  Failed,
  /** The consumer called `halt()`. */
  Halted,
}

const EMPTY = Buffer.alloc(0);

/** Decoder for `<length>\n<body>` frames. One instance per stream. */
export class DecimalDecoder implements FrameDecoder {
  readonly #sink: FrameSink;
  readonly #maxFrameBytes: number;
  #state: State = State.ReadLength;
  #digits = 0;
  #length = 0;
  #remaining = 0;
  /** Body being assembled across chunks, and how much of it is filled. */
  #body: Buffer | null = null;
  #filled = 0;
  /** Stream bytes consumed by earlier chunks, for error offsets. */
  #consumed = 0;
  #error: FrameError | null = null;

  readonly #plainViews: boolean;

  /**
   * @param sink receives every decoded frame body.
   * @param maxFrameBytes largest body accepted; a larger declared length fails the stream with
   *   `PB_ERR_FRAME_TOO_LARGE` before the body is read.
   * @param opts.plainViews hand frames that lie inside one chunk out as plain `Uint8Array` views
   *   instead of Buffers: half the cost per frame (no Buffer subclass to construct), for sinks that
   *   only copy the bytes on (the broker's connections). Default false.
   */
  constructor(sink: FrameSink, maxFrameBytes: number, opts: { plainViews?: boolean } = {}) {
    this.#sink = sink;
    this.#maxFrameBytes = maxFrameBytes;
    this.#plainViews = opts.plainViews ?? false;
  }

  push(chunk: Buffer): FrameError | null {
    const n = chunk.length;
    let i = 0;
    // With plainViews, one Uint8Array alias of the chunk per push; frames are subarrays of it.
    const view: Uint8Array = this.#plainViews ? new Uint8Array(chunk.buffer, chunk.byteOffset, n) : chunk;
    while (i < n) {
      switch (this.#state) {
        case State.ReadLength: {
          const c = chunk[i];
          if (c >= CH_0 && c <= CH_9) {
            if (++this.#digits > MAX_LENGTH_DIGITS) return this.#fail(new FrameHeaderTooLongError(MAX_LENGTH_DIGITS, this.#consumed + i));
            this.#length = this.#length * 10 + (c - CH_0);
            i++;
          } else if (c === CH_LF) {
            i++;
            if (this.#digits > 0 && this.#endHeader(chunk, i)) return this.#error;
          } else if (c === CH_CR) {
            this.#state = State.ReadLengthCr;
            i++;
          } else {
            return this.#fail(new FrameBadLengthError(c, this.#consumed + i));
          }
          break;
        }
        case State.ReadLengthCr: {
          const c = chunk[i];
          if (c !== CH_LF) return this.#fail(new FrameBadLengthError(c, this.#consumed + i));
          i++;
          this.#state = State.ReadLength;
          if (this.#digits > 0 && this.#endHeader(chunk, i)) return this.#error;
          break;
        }
        case State.ReadBody: {
          const take = Math.min(this.#remaining, n - i);
          // Fast path: the whole body is inside this chunk; hand out a view, no copy.
          if (take === this.#length) {
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

  /**
   * The header line ended at `chunk[i - 1]`. Checks the length and moves to the body, or delivers
   * an empty frame right away. Returns true when the stream failed.
   */
  #endHeader(chunk: Buffer, i: number): boolean {
    const length = this.#length;
    if (length > this.#maxFrameBytes) {
      this.#fail(new FrameTooLargeError(length, this.#maxFrameBytes, this.#consumed + i));
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

  #resetHeader(): void {
    // Called before the sink sees the frame, so that a halt() from inside onFrame sticks.
    this.#state = State.ReadLength;
    this.#digits = 0;
    this.#length = 0;
    this.#remaining = 0;
    this.#filled = 0;
  }

  #fail(error: FrameError): FrameError {
    this.#state = State.Failed;
    this.#error = error;
    this.#body = null;
    return error;
  }
}
