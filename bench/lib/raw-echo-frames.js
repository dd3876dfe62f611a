// The raw Node echo's framing, shared by bench/raw-node-echo.js (the baseline server) and
// bench/frame-path.js (its per-chunk work without sockets): the same "<len>\n<body>" decimal framing
// as the broker, written plainly, with no limits beyond a frame size cap.

const NEWLINE = 0x0a;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const MAX_LENGTH_DIGITS = 10;
const MAX_FRAME_BYTES = 16 * 1024 * 1024;

const READ_LENGTH = 0;
const READ_BODY = 1;

/** Incremental "<len>\n<body>" decoder: a READ_LENGTH → READ_BODY state machine. */
export class FrameDecoder {
  #state = READ_LENGTH;
  #length = 0;
  #digits = 0;
  #body = null;
  #filled = 0;

  /**
   * Appends the body of every frame completed by `chunk` to `bodies`. A body wholly inside the chunk
   * is a view of it (no copy); one that spans chunks is assembled in its own Buffer.
   * @returns {boolean} false on a malformed or oversized header
   */
  decode(chunk, bodies) {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.#state === READ_BODY) {
        const copied = chunk.copy(this.#body, this.#filled, i, Math.min(n, i + this.#body.length - this.#filled));
        i += copied;
        this.#filled += copied;
        if (this.#filled === this.#body.length) {
          bodies.push(this.#body);
          this.#body = null;
          this.#state = READ_LENGTH;
        }
        continue;
      }
      const byte = chunk[i++];
      if (byte >= DIGIT_0 && byte <= DIGIT_9) {
        if (++this.#digits > MAX_LENGTH_DIGITS) return false;
        this.#length = this.#length * 10 + (byte - DIGIT_0);
        // Reject before buffering anything of the body.
        if (this.#length > MAX_FRAME_BYTES) return false;
        continue;
      }
      if (byte !== NEWLINE || this.#digits === 0) return false;
      const length = this.#length;
      this.#length = 0;
      this.#digits = 0;
      if (n - i >= length) {
        bodies.push(chunk.subarray(i, i + length));
        i += length;
      } else {
        this.#body = Buffer.allocUnsafe(length);
        this.#filled = 0;
        this.#state = READ_BODY;
      }
    }
    return true;
  }
}

function decimalDigits(n) {
  let digits = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    digits++;
  }
  return digits;
}

/**
 * Encodes every body as a reply frame into one Buffer (one allocation, one write). Length digits are
 * stored byte by byte: a latin1 string write per header showed up as ≈ 9 % of the profile.
 */
export function encodeFrames(bodies) {
  let total = 0;
  for (const body of bodies) total += decimalDigits(body.length) + 1 + body.length;
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const body of bodies) {
    let length = body.length;
    offset += decimalDigits(length);
    let digit = offset;
    do {
      out[--digit] = DIGIT_0 + (length % 10);
      length = Math.floor(length / 10);
    } while (length > 0);
    out[offset++] = NEWLINE;
    offset += body.copy(out, offset);
  }
  return out;
}
