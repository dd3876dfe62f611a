/**
 * Encoder for the `<length>\n<body>` framing. One allocation per frame: the header digits are
 * written by hand in front of the body copy (no intermediate string or Buffer.concat).
 */

/** Number of bytes of the `<length>\n` header for a body of `length` bytes. */
export function decimalHeaderBytes(length: number): number {
  let digits = 1;
  for (let v = length; v >= 10; v = Math.floor(v / 10)) digits++;
  return digits + 1;
}

/**
 * Writes the header for a body of `length` bytes into `out` at `offset`.
 * @returns the offset just after the header.
 */
export function writeDecimalHeader(out: Uint8Array, offset: number, length: number): number {
  const end = offset + decimalHeaderBytes(length);
  out[end - 1] = 0x0a;
  let p = end - 2;
  let v = length;
  do {
    out[p--] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  } while (v > 0);
  return end;
}

/** Returns `<length>\n<body>` as one Buffer. */
export function encodeDecimalFrame(body: Uint8Array): Buffer {
  const header = decimalHeaderBytes(body.length);
  const out = Buffer.allocUnsafe(header + body.length);
  writeDecimalHeader(out, 0, body.length);
  out.set(body, header);
  return out;
}
