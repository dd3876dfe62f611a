/**
 * Unit tests of the binary framing's decoder (4-byte big-endian length, then the body): byte
 * literals for its one error code, halt(), and the split-everywhere properties against one-shot
 * decoding and the reference decoder (test/helpers/reference-decoder.ts), as for the decimal one.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameError, FrameTooLargeError } from '../../../host/errors.js';
import { BinaryDecoder } from '../../../host/framing/binary-decoder.js';
import { encodeBinaryFrame } from '../../../host/framing/binary-encoder.js';
import { createDecoder } from '../../../host/framing/frame-codec.js';
import { referenceDecodeBinary } from '../../helpers/reference-decoder.js';

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

interface Run {
  decoder: BinaryDecoder;
  frames: Buffer[];
}

function decoderWith(maxFrameBytes = 1024, onFrame?: (body: Buffer, run: Run) => void, plainViews = false): Run {
  const run: Run = { frames: [], decoder: undefined as unknown as BinaryDecoder };
  run.decoder = new BinaryDecoder(
    {
      onFrame(body) {
        run.frames.push(Buffer.from(body));
        onFrame?.(body, run);
      },
    },
    maxFrameBytes,
    { plainViews },
  );
  return run;
}

function decode(chunks: readonly Buffer[], maxFrameBytes: number): { frames: Buffer[]; error: FrameError | null } {
  const run = decoderWith(maxFrameBytes);
  let error: FrameError | null = null;
  for (const chunk of chunks) {
    error = run.decoder.push(chunk);
    if (error) break;
  }
  return { frames: run.frames, error };
}

function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...cuts].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(prev, p));
    prev = p;
  }
  chunks.push(bytes.subarray(prev));
  return chunks;
}

const hexes = (frames: readonly Uint8Array[]): string[] => frames.map((f) => Buffer.from(f).toString('hex'));

describe('BinaryDecoder', () => {
  describe('valid streams', () => {
    it('decodes one frame given as hex bytes', () => {
      const run = decoderWith();
      expect(run.decoder.push(hex('00000005 68656c6c6f'))).toBeNull();
      expect(run.frames.map(String)).toEqual(['hello']);
    });

    it('delivers length 0 as an empty body (the heartbeat) without consuming the next header', () => {
      const run = decoderWith();
      expect(run.decoder.push(hex('00000000 00000002 6869 00000000'))).toBeNull();
      expect(run.frames.map(String)).toEqual(['', 'hi', '']);
    });

    it('decodes a header split across chunks at every byte', () => {
      const stream = hex('00000003 616263 00000001 7a');
      for (let cut = 0; cut <= stream.length; cut++) {
        expect(hexes(decode([stream.subarray(0, cut), stream.subarray(cut)], 16).frames)).toEqual(['616263', '7a']);
      }
    });

    it('decodes a stream pushed byte by byte', () => {
      const stream = Buffer.concat([encodeBinaryFrame(Buffer.from('one')), encodeBinaryFrame(Buffer.alloc(0)), encodeBinaryFrame(Buffer.alloc(300, 7))]);
      const got = decode(
        Array.from(stream, (b) => Buffer.from([b])),
        1024,
      );
      expect(got.error).toBeNull();
      expect(got.frames.map((f) => f.length)).toEqual([3, 0, 300]);
      expect(got.frames[2].every((b) => b === 7)).toBe(true);
    });

    it('passes all 256 byte values through a body unchanged', () => {
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      expect(decode([encodeBinaryFrame(all)], 256).frames[0]).toEqual(all);
    });

    it('accepts a body of exactly maxFrameBytes', () => {
      expect(decode([encodeBinaryFrame(Buffer.alloc(10))], 10).frames).toHaveLength(1);
    });

    it('hands out plain Uint8Array views with plainViews, and Buffers without', () => {
      const seen: Uint8Array[] = [];
      new BinaryDecoder({ onFrame: (b) => seen.push(b) }, 16, { plainViews: true }).push(hex('00000001 41'));
      new BinaryDecoder({ onFrame: (b) => seen.push(b) }, 16).push(hex('00000001 41'));
      expect(Buffer.isBuffer(seen[0])).toBe(false);
      expect(Buffer.isBuffer(seen[1])).toBe(true);
    });

    it('is what createDecoder gives for the binary framing', () => {
      expect(createDecoder('binary', { onFrame() {} }, 1)).toBeInstanceOf(BinaryDecoder);
    });
  });

  describe('protocol errors', () => {
    it('rejects a length above maxFrameBytes at its fourth byte, before reading the body (PB_ERR_FRAME_TOO_LARGE)', () => {
      const run = decoderWith(1024);
      expect(run.decoder.push(hex('000004'))).toBeNull();
      const err = run.decoder.push(hex('01 ffff'));
      expect(err).toBeInstanceOf(FrameTooLargeError);
      expect(err!.code).toBe('PB_ERR_FRAME_TOO_LARGE');
      expect(err!.offset).toBe(4);
      expect((err as FrameTooLargeError).declared).toBe(1025);
      expect((err as FrameTooLargeError).limit).toBe(1024);
    });

    it('rejects 0xffffffff, the largest header, as too large', () => {
      const err = decode([hex('ffffffff')], 1 << 20).error as FrameTooLargeError;
      expect(err.declared).toBe(0xffff_ffff);
    });

    it('delivers the frames before the oversized header, then stays failed with the same error', () => {
      const run = decoderWith(4);
      const err = run.decoder.push(hex('00000001 41 00000005 6162636465'));
      expect(run.frames.map(String)).toEqual(['A']);
      expect(err!.offset).toBe(9);
      expect(run.decoder.push(hex('00000001 42'))).toBe(err);
      run.decoder.halt();
      expect(run.decoder.push(hex('00'))).toBe(err);
      expect(run.frames).toHaveLength(1);
    });
  });

  describe('halt()', () => {
    it('stops delivery in the middle of a chunk when called from onFrame', () => {
      const run = decoderWith(16, (_b, r) => r.decoder.halt());
      expect(run.decoder.push(hex('00000001 41 00000001 42'))).toBeNull();
      expect(run.frames.map(String)).toEqual(['A']);
      expect(run.decoder.push(hex('ffffffff'))).toBeNull();
    });

    it('drops a partly received body', () => {
      const run = decoderWith();
      run.decoder.push(hex('00000004 4142'));
      run.decoder.halt();
      run.decoder.push(hex('4344'));
      expect(run.frames).toEqual([]);
    });
  });

  describe('properties', () => {
    const chunking = fc.oneof(
      { weight: 1, arbitrary: fc.constant('bytes' as const) },
      { weight: 4, arbitrary: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 }) },
    );
    const chunk = (stream: Buffer, how: 'bytes' | number[]): Buffer[] =>
      how === 'bytes'
        ? Array.from(stream, (b) => Buffer.from([b]))
        : splitAt(
            stream,
            how.map((f) => Math.floor(f * stream.length)),
          );
    const body = fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 100, maxLength: 400 }));

    it('decodes any chunking of any frame sequence exactly like one-shot decoding and the encoder input', () => {
      fc.assert(
        fc.property(fc.array(body, { maxLength: 12 }), chunking, (bodies, how) => {
          const stream = Buffer.concat(bodies.map((b) => encodeBinaryFrame(b)));
          const maxFrameBytes = Math.max(1, ...bodies.map((b) => b.length));
          const oneShot = decode([stream], maxFrameBytes);
          const chunked = decode(chunk(stream, how), maxFrameBytes);
          expect(chunked.error).toBeNull();
          expect(hexes(chunked.frames)).toEqual(hexes(oneShot.frames));
          expect(hexes(oneShot.frames)).toEqual(hexes(bodies));
        }),
        { numRuns: 300 },
      );
    });

    /** Random bytes with small lengths likely: runs of zero bytes make short headers. */
    const hostileStream = fc
      .array(fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }), { maxLength: 200 })
      .map((bytes) => Buffer.from(bytes));

    it('decodes any byte stream in any chunking as the reference decoder does (frames, error, offset)', () => {
      fc.assert(
        fc.property(hostileStream, fc.integer({ min: 0, max: 40 }), chunking, (stream, maxFrameBytes, how) => {
          const run = decoderWith(maxFrameBytes, undefined, true);
          let error: FrameError | null = null;
          for (const c of chunk(stream, how)) {
            const result = run.decoder.push(c);
            if (error) expect(result).toBe(error);
            else error = result;
          }
          const ref = referenceDecodeBinary(stream, maxFrameBytes);
          expect(hexes(run.frames)).toEqual(hexes(ref.frames.map(([a, b]) => stream.subarray(a, b))));
          expect(error?.code).toBe(ref.error?.code);
          expect(error?.offset).toBe(ref.error?.offset);
          for (const f of run.frames) expect(f.length).toBeLessThanOrEqual(maxFrameBytes);
        }),
        { numRuns: 500 },
      );
    });
  });
});
