/**
 * The binary framing (`?framing=binary`): a 4-byte big-endian body length, then the body. Length 0
 * is a heartbeat. The declared length is checked against `maxFrameBytes` as soon as the 4 header
 * bytes are in, before any body byte is kept.
 *
 * State machine READ_HEADER → READ_BODY; the header may arrive split across chunks.
 */
import { FrameError, FrameTooLargeError } from '../errors.js';
import { BodyBuffer, type FrameHandler, type StreamCodec, type StreamDecoder } from './stream-framing.js';

/** Bytes of the length header. */
export const BINARY_HEADER_BYTES = 4;
/** Largest length the header can express. */
export const BINARY_MAX_LENGTH = 0xffff_ffff;

const EMPTY = new Uint8Array(0);

const enum State {
  ReadHeader,
  ReadBody,
  Failed,
}

/** Decoder for length-prefixed binary frames. One instance per stream. */
export class BinaryDecoder implements StreamDecoder {
  readonly #onFrame: FrameHandler;
  readonly #maxFrameBytes: number;
  readonly #body = new BodyBuffer();
  #state = State.ReadHeader;
  #headerBytes = 0;
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
        case State.ReadHeader: {
          if (this.#headerBytes === 0 && n - i >= BINARY_HEADER_BYTES) {
            // Fast path: the whole header is in this chunk. `>>> 0` keeps the value unsigned.
            this.#length = ((chunk[i] << 24) | (chunk[i + 1] << 16) | (chunk[i + 2] << 8) | chunk[i + 3]) >>> 0;
            this.#headerBytes = BINARY_HEADER_BYTES;
            i += BINARY_HEADER_BYTES;
          } else {
            this.#length = this.#length * 256 + chunk[i++];
            this.#headerBytes++;
          }
          if (this.#headerBytes === BINARY_HEADER_BYTES && this.#endHeader(i)) return this.#error;
          break;
        }
        case State.ReadBody: {
          const missing = this.#length - this.#body.filled;
          const take = Math.min(missing, n - i);
          if (take === this.#length) {
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

  #endHeader(i: number): boolean {
    const length = this.#length;
    if (length > this.#maxFrameBytes) {
      this.#state = State.Failed;
      this.#error = new FrameTooLargeError(length, this.#maxFrameBytes, this.#consumed + i);
      this.#body.clear();
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
    this.#state = State.ReadHeader;
    this.#headerBytes = 0;
    this.#length = 0;
  }
}

/** Returns the 4-byte big-endian length followed by `body`, as one array. */
export function encodeBinaryFrame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(BINARY_HEADER_BYTES + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, BINARY_HEADER_BYTES);
  return out;
}

/** The binary framing. */
export const BINARY_CODEC: StreamCodec = Object.freeze({
  name: 'binary',
  createDecoder: (onFrame: FrameHandler, maxFrameBytes: number) => new BinaryDecoder(onFrame, maxFrameBytes),
  encode: encodeBinaryFrame,
  heartbeat: encodeBinaryFrame(EMPTY),
});
