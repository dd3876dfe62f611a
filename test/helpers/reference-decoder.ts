/**
 * One-shot reference decoder for the fuzz and mutation tests, written from the README's wire
 * protocol rather than from host/framing: a header of 1–10 ASCII digits ended by `\n` or `\r\n`,
 * then that many body bytes; blank lines (`\n`, `\r\n`) between frames are skipped; a length above
 * `maxFrameBytes` fails at the end of its header line. An incomplete frame at the end is not an error.
 */
import type { ErrorCode } from '../../host/errors.js';
import { MAX_LENGTH_DIGITS } from '../../host/limits.js';

export interface ReferenceResult {
  /** [start, end) of every frame body in the stream. */
  frames: Array<[number, number]>;
  error: { code: ErrorCode; offset: number; byte?: number; declared?: number } | null;
}

export function referenceDecode(s: Uint8Array, maxFrameBytes: number): ReferenceResult {
  const frames: ReferenceResult['frames'] = [];
  let i = 0;
  for (;;) {
    let digits = 0;
    let length = 0;
    for (;;) {
      if (i >= s.length) return { frames, error: null };
      const c = s[i];
      if (c >= 0x30 && c <= 0x39) {
        if (++digits > MAX_LENGTH_DIGITS) return { frames, error: { code: 'PB_ERR_FRAME_HEADER_TOO_LONG', offset: i } };
        length = length * 10 + (c - 0x30);
        i++;
        continue;
      }
      if (c === 0x0d) {
        if (i + 1 >= s.length) return { frames, error: null };
        if (s[i + 1] !== 0x0a) return { frames, error: { code: 'PB_ERR_FRAME_BAD_LENGTH', offset: i + 1, byte: s[i + 1] } };
        i += 2;
      } else if (c === 0x0a) {
        i++;
      } else {
        return { frames, error: { code: 'PB_ERR_FRAME_BAD_LENGTH', offset: i, byte: c } };
      }
      if (digits > 0) break;
    }
    if (length > maxFrameBytes) return { frames, error: { code: 'PB_ERR_FRAME_TOO_LARGE', offset: i, declared: length } };
    if (i + length > s.length) return { frames, error: null };
    frames.push([i, i + length]);
    i += length;
  }
}

/**
 * One-shot reference decoder of the binary framing, written from the README (Binary framing): a
 * 4-byte big-endian length, then that many body bytes; a length above `maxFrameBytes` fails just
 * after its fourth byte. An incomplete frame at the end is not an error.
 */
export function referenceDecodeBinary(s: Uint8Array, maxFrameBytes: number): ReferenceResult {
  const frames: ReferenceResult['frames'] = [];
  let i = 0;
  while (i + 4 <= s.length) {
    const length = ((s[i] << 24) >>> 0) + (s[i + 1] << 16) + (s[i + 2] << 8) + s[i + 3];
    i += 4;
    if (length > maxFrameBytes) return { frames, error: { code: 'PB_ERR_FRAME_TOO_LARGE', offset: i, declared: length } };
    if (i + length > s.length) break;
    frames.push([i, i + length]);
    i += length;
  }
  return { frames, error: null };
}
