/**
 * The client's stream framings (client-sdk-ts/src/framing/): byte literals for each error code, a
 * split-everywhere property (any chunking decodes like one chunk), and cross-checks against the
 * broker: what the client encodes, the broker's decoder reads back, and the client decodes arbitrary
 * bytes exactly like the reference decoder of the broker's tests (frames, error code and offset).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BinaryDecoder, encodeBinaryFrame } from '../../../client-sdk-ts/src/framing/binary.js';
import { DecimalDecoder, encodeDecimalFrame } from '../../../client-sdk-ts/src/framing/decimal.js';
import type { FrameError } from '../../../client-sdk-ts/src/errors.js';
import type { StreamDecoder } from '../../../client-sdk-ts/src/framing/stream-framing.js';
import { DecimalDecoder as BrokerDecimalDecoder } from '../../../host/framing/decimal-decoder.js';
import { encodeDecimalFrame as brokerEncodeDecimal } from '../../../host/framing/decimal-encoder.js';
import { referenceDecode } from '../../helpers/reference-decoder.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

type Make = (onFrame: (b: Uint8Array) => void, max: number) => StreamDecoder;
const makeDecimal: Make = (onFrame, max) => new DecimalDecoder(onFrame, max);
const makeBinary: Make = (onFrame, max) => new BinaryDecoder(onFrame, max);

/** Pushes `chunks` in order, stopping at the first error; returns hex bodies (copied at once) and the error. */
function decode(make: Make, chunks: readonly Uint8Array[], max: number): { frames: string[]; error: FrameError | null } {
  const frames: string[] = [];
  const d = make((b) => frames.push(toHex(b)), max);
  let error: FrameError | null = null;
  for (const c of chunks) {
    error = d.push(c);
    if (error) break;
  }
  return { frames, error };
}

function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...cuts].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('client DecimalDecoder', () => {
  it('decodes frames, an empty heartbeat body, CRLF headers and blank lines between frames', () => {
    const { frames, error } = decode(makeDecimal, [Uint8Array.from(Buffer.from('5\nhello0\n\r\n\n3\r\nabc'))], 1024);
    expect(error).toBeNull();
    expect(frames).toEqual([toHex(Buffer.from('hello')), '', toHex(Buffer.from('abc'))]);
  });

  it('refuses a non-digit in the header with PB_ERR_FRAME_BAD_LENGTH at its offset', () => {
    const { frames, error } = decode(makeDecimal, [hex('31 0a 41 35 78 0a')], 1024); // "1\nA5x\n"
    expect(frames).toEqual(['41']);
    expect(error?.code).toBe('PB_ERR_FRAME_BAD_LENGTH');
    expect(error?.offset).toBe(4);
  });

  it('refuses a CR not followed by LF with PB_ERR_FRAME_BAD_LENGTH', () => {
    expect(decode(makeDecimal, [hex('35 0d 41')], 1024).error?.code).toBe('PB_ERR_FRAME_BAD_LENGTH');
  });

  it('refuses an 11-digit header with PB_ERR_FRAME_HEADER_TOO_LONG', () => {
    expect(decode(makeDecimal, [Buffer.from('00000000001\n')], 1024).error?.code).toBe('PB_ERR_FRAME_HEADER_TOO_LONG');
  });

  it('refuses a length above maxFrameBytes when the header ends, before any body byte arrives', () => {
    const { error } = decode(makeDecimal, [Buffer.from('1025\n')], 1024);
    expect(error?.code).toBe('PB_ERR_FRAME_TOO_LARGE');
    expect(error?.offset).toBe(5);
  });

  it('stays failed: a later chunk returns the same error and delivers nothing', () => {
    const frames: Uint8Array[] = [];
    const d = new DecimalDecoder((b) => frames.push(b), 1024);
    const err = d.push(Buffer.from('x'));
    expect(d.push(Buffer.from('1\na'))).toBe(err);
    expect(frames).toHaveLength(0);
  });

  it('decodes any bytes exactly like the broker tests’ reference decoder (frames, error code, offset)', () => {
    const byte = fc.oneof(fc.constantFrom(0x30, 0x31, 0x32, 0x35, 0x39, 0x0a, 0x0d), fc.integer({ min: 0, max: 255 }));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(byte, { maxLength: 60 }), fc.integer({ min: 0, max: 40 }), (noise, structured, max) => {
        const bytes = concat([Uint8Array.from(structured), noise]);
        const ref = referenceDecode(bytes, max);
        const got = decode(makeDecimal, [bytes], max);
        expect(got.frames).toEqual(ref.frames.map(([s, e]) => toHex(bytes.subarray(s, e))));
        expect(got.error?.code ?? null).toBe(ref.error?.code ?? null);
        if (ref.error) expect(got.error?.offset).toBe(ref.error.offset);
      }),
      { numRuns: 400 },
    );
  });
});

describe('client BinaryDecoder', () => {
  it('decodes a 4-byte big-endian length and its body, and an empty heartbeat', () => {
    const { frames, error } = decode(makeBinary, [hex('00000003 616263 00000000 00000001 ff')], 1024);
    expect(error).toBeNull();
    expect(frames).toEqual(['616263', '', 'ff']);
  });

  it('refuses a length above maxFrameBytes once the 4 header bytes are in, before any body byte', () => {
    const { error } = decode(makeBinary, [hex('00 00'), hex('04'), hex('01')], 1024); // 1025
    expect(error?.code).toBe('PB_ERR_FRAME_TOO_LARGE');
    expect(error?.offset).toBe(4);
    expect((error as unknown as { length: number }).length).toBe(1025);
  });

  it('reads the largest header (ff ff ff ff) as 4294967295, not a negative number', () => {
    const { error } = decode(makeBinary, [hex('ffffffff')], 1024);
    expect((error as unknown as { length: number }).length).toBe(0xffff_ffff);
  });

  it('encodes the length big-endian', () => {
    expect(toHex(encodeBinaryFrame(new Uint8Array(258)).subarray(0, 4))).toBe('00000102');
  });
});

describe.each([
  ['decimal', makeDecimal, encodeDecimalFrame],
  ['binary', makeBinary, encodeBinaryFrame],
] as const)('%s framing round trip', (_name, make, encode) => {
  it('decodes any frame sequence split at any points like one chunk (split everywhere)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (bodies, rawCuts) => {
        const stream = concat(bodies.map((b) => encode(b)));
        const cuts = rawCuts.map((c) => (stream.length === 0 ? 0 : c % (stream.length + 1)));
        const got = decode(make, splitAt(stream, cuts), 1024);
        expect(got.error).toBeNull();
        expect(got.frames).toEqual(bodies.map(toHex));
      }),
      { numRuns: 300 },
    );
  });

  it('decodes byte by byte like one chunk', () => {
    const bodies = [Buffer.from('hello'), new Uint8Array(0), Uint8Array.from({ length: 256 }, (_, i) => i)];
    const stream = concat(bodies.map((b) => encode(b)));
    const got = decode(
      make,
      Array.from(stream, (b) => Uint8Array.of(b)),
      1024,
    );
    expect(got.frames).toEqual(bodies.map(toHex));
  });
});

describe('decimal framing against the broker', () => {
  it('the broker decodes what the client encodes, and the client decodes what the broker encodes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 2000 }), { maxLength: 6 }), (bodies) => {
        const fromClient = Buffer.concat(bodies.map((b) => encodeDecimalFrame(b)));
        const brokerFrames: string[] = [];
        const err = new BrokerDecimalDecoder({ onFrame: (b) => void brokerFrames.push(toHex(b)) }, 1 << 20).push(fromClient);
        expect(err).toBeNull();
        expect(brokerFrames).toEqual(bodies.map(toHex));
        const fromBroker = Buffer.concat(bodies.map((b) => brokerEncodeDecimal(b)));
        expect(toHex(fromBroker)).toBe(toHex(fromClient));
        expect(decode(makeDecimal, [fromBroker], 1 << 20).frames).toEqual(bodies.map(toHex));
      }),
      { numRuns: 200 },
    );
  });
});
