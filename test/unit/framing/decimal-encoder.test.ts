/**
 * Unit tests of the `<len>\n<body>` encoder: header sizes at every digit boundary, exact bytes, and
 * the round trip through the decoder.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecimalDecoder } from '../../../host/framing/decimal-decoder.js';
import { decimalHeaderBytes, encodeDecimalFrame, writeDecimalHeader } from '../../../host/framing/decimal-encoder.js';
import { MAX_FRAME_BYTES_CEILING, MAX_LENGTH_DIGITS } from '../../../host/limits.js';

/** 0, 9, 10, 99, 100, … 10^10: the last length of each digit count and the first of the next. */
const DIGIT_BOUNDARIES = [0, ...Array.from({ length: 10 }, (_, k) => [10 ** (k + 1) - 1, 10 ** (k + 1)]).flat()];

function decodeAll(stream: Buffer, maxFrameBytes: number): Buffer[] {
  const frames: Buffer[] = [];
  const error = new DecimalDecoder({ onFrame: (b) => frames.push(Buffer.from(b)) }, maxFrameBytes).push(stream);
  expect(error).toBeNull();
  return frames;
}

describe('decimalHeaderBytes', () => {
  it.each(DIGIT_BOUNDARIES)('counts the digits of %i plus the newline', (length) => {
    expect(decimalHeaderBytes(length)).toBe(String(length).length + 1);
  });

  it('gives 2 bytes for an empty body ("0\\n")', () => {
    expect(decimalHeaderBytes(0)).toBe(2);
  });

  it('never needs more than MAX_LENGTH_DIGITS digits up to the frame size ceiling', () => {
    expect(decimalHeaderBytes(MAX_FRAME_BYTES_CEILING)).toBeLessThanOrEqual(MAX_LENGTH_DIGITS + 1);
  });

  it('matches the decimal string length for any safe integer', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        expect(decimalHeaderBytes(n)).toBe(String(n).length + 1);
      }),
      { numRuns: 300 },
    );
  });
});

describe('writeDecimalHeader', () => {
  it.each(DIGIT_BOUNDARIES)('writes "%i\\n" at the offset and returns the offset after it', (length) => {
    const out = new Uint8Array(20).fill(0xee);
    const end = writeDecimalHeader(out, 3, length);
    const header = `${length}\n`;
    expect(end).toBe(3 + header.length);
    expect(Buffer.from(out.subarray(3, end)).toString('latin1')).toBe(header);
    // Bytes around the header are untouched.
    expect([...out.subarray(0, 3)]).toEqual([0xee, 0xee, 0xee]);
    expect(out.subarray(end).every((b) => b === 0xee)).toBe(true);
  });
});

describe('encodeDecimalFrame', () => {
  it('encodes an empty body as "0\\n"', () => {
    expect(encodeDecimalFrame(new Uint8Array(0)).toString('latin1')).toBe('0\n');
  });

  it('encodes "hello" as the hex bytes 35 0a 68 65 6c 6c 6f', () => {
    expect(encodeDecimalFrame(Buffer.from('hello')).toString('hex')).toBe('350a68656c6c6f');
  });

  it.each([0, 1, 9, 10, 99, 100, 999, 1000, 9999, 10_000, 99_999, 100_000])('writes a %i-byte body after its decimal length and a newline', (length) => {
    const body = Buffer.alloc(length, 0x61);
    const frame = encodeDecimalFrame(body);
    const header = `${length}\n`;
    expect(frame.length).toBe(header.length + length);
    expect(frame.subarray(0, header.length).toString('latin1')).toBe(header);
    expect(frame.subarray(header.length).equals(body)).toBe(true);
  });

  it.each([0, 1, 9, 10, 99, 100, 999, 1000, 65_536])('round-trips a %i-byte binary body through the decoder', (length) => {
    const body = Buffer.from(Array.from({ length }, (_, i) => (i * 37 + 11) & 0xff));
    const frames = decodeAll(encodeDecimalFrame(body), Math.max(1, length));
    expect(frames).toHaveLength(1);
    expect(frames[0].equals(body)).toBe(true);
  });

  it('encodes only the viewed bytes of a Uint8Array that is a view into a larger buffer', () => {
    const backing = Uint8Array.from([0x78, 0x61, 0x62, 0x63, 0x78]);
    expect(encodeDecimalFrame(backing.subarray(1, 4)).toString('latin1')).toBe('3\nabc');
  });

  it('copies the body: changing it afterwards leaves the frame intact', () => {
    const body = Buffer.from('abc');
    const frame = encodeDecimalFrame(body);
    body.fill(0x7a);
    expect(frame.toString('latin1')).toBe('3\nabc');
  });

  it('round-trips any sequence of binary bodies, concatenated into one stream', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (bodies) => {
        const stream = Buffer.concat(bodies.map((b) => encodeDecimalFrame(b)));
        const hex = (frames: readonly Uint8Array[]) => frames.map((f) => Buffer.from(f).toString('hex'));
        expect(hex(decodeAll(stream, 300))).toEqual(hex(bodies));
      }),
      { numRuns: 300 },
    );
  });
});
