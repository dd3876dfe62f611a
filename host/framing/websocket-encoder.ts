/**
 * Encoder for what the broker sends over WebSocket: one final, unmasked binary data frame per
 * message (RFC 6455 §5.2: FIN + opcode 0x2, then a 7-, 16- or 64-bit payload length; a server never
 * masks). Written by hand because the broker encodes many frames back to back into one buffer and
 * one socket write; ws's `Sender` makes a header Buffer and a write per message (its `frame()`
 * gives the same bytes: test/unit/framing/websocket-encoder.test.ts compares them).
 */

/** FIN bit + opcode 0x2 (binary). */
const FIN_BINARY = 0x82;

/** Header bytes of a server frame with a payload of `length` bytes: 2, 4 or 10. */
export function websocketHeaderBytes(length: number): number {
  return length < 126 ? 2 : length < 0x10000 ? 4 : 10;
}

/**
 * Writes the header of a final binary frame with a payload of `length` bytes into `out` at
 * `offset` (`length` below 2^53; the broker's frames are at most 256 MiB).
 * @returns the offset just after the header.
 */
export function writeWebsocketHeader(out: Uint8Array, offset: number, length: number): number {
  out[offset] = FIN_BINARY;
  if (length < 126) {
    out[offset + 1] = length;
    return offset + 2;
  }
  if (length < 0x10000) {
    out[offset + 1] = 126;
    out[offset + 2] = length >>> 8;
    out[offset + 3] = length & 0xff;
    return offset + 4;
  }
  out[offset + 1] = 127;
  const high = Math.floor(length / 0x1_0000_0000);
  out[offset + 2] = 0;
  out[offset + 3] = 0;
  out[offset + 4] = (high >>> 8) & 0xff;
  out[offset + 5] = high & 0xff;
  out[offset + 6] = length >>> 24;
  out[offset + 7] = (length >>> 16) & 0xff;
  out[offset + 8] = (length >>> 8) & 0xff;
  out[offset + 9] = length & 0xff;
  return offset + 10;
}

/** Returns one final binary frame carrying `body`, as one Buffer. */
export function encodeWebsocketFrame(body: Uint8Array): Buffer {
  const header = websocketHeaderBytes(body.length);
  const out = Buffer.allocUnsafe(header + body.length);
  writeWebsocketHeader(out, 0, body.length);
  out.set(body, header);
  return out;
}
