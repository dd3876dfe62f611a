/**
 * The broker's default framing, `<length>\n<body>`: an ASCII decimal length of at most 10 digits,
 * an optional `\r` before the `\n`, then exactly `length` body bytes. Empty lines between frames are
 * ignored (telnet's CRLF). `0\n` is a heartbeat.
 *
 * A small state machine, READ_LENGTH → (READ_LENGTH_CR) → READ_BODY, after nats.js
 * core/src/parser.ts, like the broker's own decoder (host/framing/decimal-decoder.ts). The declared
 * length is checked against `maxFrameBytes` when the header line ends, before any body byte is kept.
 */
import { FrameBadLengthError, FrameError, FrameHeaderTooLongError, FrameTooLargeError } from '../errors.js';
import { BodyBuffer, type FrameHandler, type StreamCodec, type StreamDecoder } from './stream-framing.js';

/** Digits a length header may have (covers every length up to 9 999 999 999). */
export const MAX_LENGTH_DIGITS = 10;

const CH_0 = 0x30;
const CH_9 = 0x39;
const CH_LF = 0x0a;
const CH_CR = 0x0d;
const EMPTY = new Uint8Array(0);

const enum State {
  ReadLength,
  ReadLengthCr,
  ReadBody,
  Failed,
}

/** Decoder for `<length>\n<body>` frames. One instance per stream. */
export class DecimalDecoder implements StreamDecoder {
  readonly #onFrame: FrameHandler;
  readonly #maxFrameBytes: number;
  readonly #body = new BodyBuffer();
  #state = State.ReadLength;
  #digits = 0;
  #length = 0;
  #consumed = 0;
  #error: FrameError | null = null;

  /**
   * @param onFrame receives every frame body (an empty one is a heartbeat).
   * @param maxFrameBytes largest body accepted; a larger declared length fails the stream with
   *   `PB_ERR_FRAME_TOO_LARGE` before the body is read.
   */
  constructor(onFrame: FrameHandler, maxFrameBytes: number) {
    this.#onFrame = onFrame;
    this.#maxFrameBytes = maxFrameBytes;
  }

  push(chunk: Uint8Array): FrameError | null {
    const n = chunk.length;
    let i = 0;
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
            if (this.#digits > 0 && this.#endHeader(i)) return this.#error;
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
          if (this.#digits > 0 && this.#endHeader(i)) return this.#error;
          break;
        }
        case State.ReadBody: {
          const missing = this.#length - this.#body.filled;
          const take = Math.min(missing, n - i);
          if (take === this.#length) {
            // The whole body is inside this chunk: a view, no copy.
            const body = chunk.subarray(i, i + take);
            i += take;
            this.#resetHeader();
            this.#onFrame(body);
          } else {
            this.#body.append(chunk, i, i + take, this.#length);
            i += take;
            if (take === missing) {
              const body = this.#body.take();
              this.#resetHeader();
              this.#onFrame(body);
            }
          }
          break;
        }
        case State.Failed:
          return this.#error;
      }
    }
    this.#consumed += n;
    return this.#error;
  }

  /** The header line ended just before `chunk[i]`; returns true when the stream failed. */
  #endHeader(i: number): boolean {
    const length = this.#length;
    if (length > this.#maxFrameBytes) {
      this.#fail(new FrameTooLargeError(length, this.#maxFrameBytes, this.#consumed + i));
      return true;
    }
    if (length === 0) {
      this.#resetHeader();
      this.#onFrame(EMPTY);
      return false;
    }
    this.#state = State.ReadBody;
    return false;
  }

  #resetHeader(): void {
    this.#state = State.ReadLength;
    this.#digits = 0;
    this.#length = 0;
  }

  #fail(error: FrameError): FrameError {
    this.#state = State.Failed;
    this.#error = error;
    this.#body.clear();
    return error;
  }
}

/** Returns `<length>\n<body>` as one array. */
export function encodeDecimalFrame(body: Uint8Array): Uint8Array {
  let digits = 1;
  for (let v = body.length; v >= 10; v = Math.floor(v / 10)) digits++;
  const out = new Uint8Array(digits + 1 + body.length);
  let v = body.length;
  for (let p = digits - 1; p >= 0; p--) {
    out[p] = CH_0 + (v % 10);
    v = Math.floor(v / 10);
  }
  out[digits] = CH_LF;
  out.set(body, digits + 1);
  return out;
}

/** The decimal framing. */
export const DECIMAL_CODEC: StreamCodec = Object.freeze({
  name: 'decimal',
  createDecoder: (onFrame: FrameHandler, maxFrameBytes: number) => new DecimalDecoder(onFrame, maxFrameBytes),
  encode: encodeDecimalFrame,
  heartbeat: encodeDecimalFrame(EMPTY),
});
