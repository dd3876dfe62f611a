/**
 * Encoder for the binary framing (`tcp://…?framing=binary`): a 4-byte big-endian body length, then
 * the body. One allocation per frame, header written in place.
 */

/** Bytes of the binary framing's header. */
export const BINARY_HEADER_BYTES = 4;

/**
 * Writes the 4-byte big-endian header for a body of `length` bytes into `out` at `offset`.
 * @returns the offset just after the header.
 */
export function writeBinaryHeader(out: Uint8Array, offset: number, length: number): number {
  out[offset] = length >>> 24;
  out[offset + 1] = (length >>> 16) & 0xff;
  out[offset + 2] = (length >>> 8) & 0xff;
  out[offset + 3] = length & 0xff;
  return offset + BINARY_HEADER_BYTES;
}

/** Returns header + body as one Buffer. */
export function encodeBinaryFrame(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(BINARY_HEADER_BYTES + body.length);
  writeBinaryHeader(out, 0, body.length);
  out.set(body, BINARY_HEADER_BYTES);
  return out;
}
