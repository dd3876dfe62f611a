/**
 * Long fuzz run of the binary framing's decoder (`npm run fuzz`; `FUZZ_SECONDS`, default 60, shared
 * with the decimal decoder's run). The fast properties run in `npm test`
 * (test/unit/framing/binary-decoder.test.ts).
 *
 * Inputs: fast-check arbitraries (shrinkable), then a seeded generator of valid streams, mutated
 * ones (bit flips, inserted, deleted and duplicated ranges, oversize headers, truncation) and
 * random bytes, each pushed in a random chunking. The oracle is the one-shot reference decoder
 * (test/helpers/reference-decoder.ts, written from the README). Every stream must decode exactly
 * as the reference does (frames, error code, offset), yield at most one error (returned again for
 * every later chunk, no frame after it), never throw, deliver no frame above maxFrameBytes, and take
 * time linear in its size.
 *
 * Environment: FUZZ_SECONDS, FUZZ_SEED (uint32; printed at start).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameError } from '../../host/errors.js';
import { BinaryDecoder } from '../../host/framing/binary-decoder.js';
import { encodeBinaryFrame } from '../../host/framing/binary-encoder.js';
import { referenceDecodeBinary } from '../helpers/reference-decoder.js';

const SECONDS = Number(process.env.FUZZ_SECONDS ?? 60);
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
/** Share of the budget for the fast-check property; the seeded generator gets the rest. */
const FC_SHARE = 0.3;
/** A push is linear in its chunk: this much plus 1 µs per byte is orders of magnitude of slack. */
const PUSH_BUDGET_MS = 250;

function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Decodes `stream` in `chunks` and checks it against the reference and the decoder contract. */
function check(stream: Buffer, chunks: number[], maxFrameBytes: number, what: string): void {
  const expected = referenceDecodeBinary(stream, maxFrameBytes);
  const frames: string[] = [];
  let error: FrameError | null = null;
  let framesAtError = 0;
  const decoder = new BinaryDecoder({ onFrame: (b) => void frames.push(Buffer.from(b).toString('hex')) }, maxFrameBytes, { plainViews: true });
  let at = 0;
  for (const n of chunks) {
    const chunk = stream.subarray(at, at + n);
    at += n;
    const t0 = performance.now();
    let result: FrameError | null;
    try {
      result = decoder.push(chunk);
    } catch (err) {
      throw new Error(`push threw ${String(err)} on ${what} (seed ${SEED})`, { cause: err });
    }
    const ms = performance.now() - t0;
    if (ms > PUSH_BUDGET_MS + chunk.length / 1000) throw new Error(`push of ${chunk.length} bytes took ${ms.toFixed(0)} ms on ${what} (seed ${SEED})`);
    if (error !== null) expect(result, `same error after the first, ${what}`).toBe(error);
    else if (result !== null) {
      error = result;
      framesAtError = frames.length;
    }
  }
  const want = expected.frames.map(([a, b]) => stream.subarray(a, b).toString('hex'));
  expect(frames, `frames of ${what} (seed ${SEED})`).toEqual(want);
  expect(error?.code, `error code of ${what} (seed ${SEED})`).toBe(expected.error?.code);
  expect(error?.offset, `error offset of ${what} (seed ${SEED})`).toBe(expected.error?.offset);
  if (error !== null) expect(frames.length).toBe(framesAtError);
  for (const f of frames) expect(f.length / 2).toBeLessThanOrEqual(maxFrameBytes);
}

describe(`BinaryDecoder fuzz (seed ${SEED}, ${SECONDS} s)`, () => {
  it(
    'decodes arbitrary frame sequences, mutated and split anywhere, as the reference does',
    () => {
      const deadline = Date.now() + SECONDS * 1000 * FC_SHARE;
      const body = fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 4000 }));
      fc.assert(
        fc.property(
          fc.array(body, { maxLength: 20 }),
          fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 }),
          fc.array(fc.nat(), { maxLength: 30 }),
          fc.integer({ min: 0, max: 5000 }),
          (bodies, flips, cuts, maxFrameBytes) => {
            const stream = Buffer.concat(bodies.map((b) => encodeBinaryFrame(b)));
            for (const [pos, v] of flips) if (stream.length > 0) stream[pos % stream.length] = v;
            const points = cuts.map((c) => (stream.length === 0 ? 0 : c % (stream.length + 1))).sort((a, b) => a - b);
            const chunks: number[] = [];
            let prev = 0;
            for (const p of [...points, stream.length]) {
              chunks.push(p - prev);
              prev = p;
            }
            check(stream, chunks, maxFrameBytes, 'a fast-check stream');
          },
        ),
        { interruptAfterTimeLimit: Math.max(1, deadline - Date.now()), numRuns: Number.MAX_SAFE_INTEGER, seed: SEED | 0 },
      );
    },
    SECONDS * 1000 * 2 + 30_000,
  );

  it(
    'survives the seeded generator: valid, mutated, oversize-header and random streams in random chunkings',
    () => {
      const rand = prng(SEED);
      const int = (n: number): number => Math.floor(rand() * n);
      const deadline = Date.now() + SECONDS * 1000 * (1 - FC_SHARE);
      let streams = 0;
      while (Date.now() < deadline) {
        const maxFrameBytes = [0, 1, 100, 4096, 1 << 20][int(5)];
        const bodies = Array.from({ length: int(30) }, () => {
          const b = Buffer.allocUnsafe([0, int(16), int(300), int(maxFrameBytes + 2)][int(4)]);
          for (let i = 0; i < b.length; i++) b[i] = int(256);
          return b;
        });
        let stream = Buffer.concat(bodies.map((b) => encodeBinaryFrame(b)));
        switch (int(6)) {
          case 0: // bit flips
            for (let k = int(8); k > 0 && stream.length > 0; k--) stream[int(stream.length)] ^= 1 << int(8);
            break;
          case 1: // insert random bytes
            stream = Buffer.concat([
              stream.subarray(0, int(stream.length + 1)),
              Buffer.from(Array.from({ length: int(12) }, () => int(256))),
              stream.subarray(int(stream.length + 1)),
            ]);
            break;
          case 2: {
            // delete or duplicate a range
            const a = int(stream.length + 1);
            const b = a + int(stream.length - a + 1);
            stream =
              int(2) === 0
                ? Buffer.concat([stream.subarray(0, a), stream.subarray(b)])
                : Buffer.concat([stream.subarray(0, b), stream.subarray(a, b), stream.subarray(b)]);
            break;
          }
          case 3: {
            // an oversize header, with or without body bytes after it
            const h = Buffer.alloc(4);
            h.writeUInt32BE(maxFrameBytes + 1 + int(0xffff_fff0 - maxFrameBytes));
            stream = Buffer.concat([stream, h, Buffer.alloc(int(100))]);
            break;
          }
          case 4: // truncation
            stream = stream.subarray(0, int(stream.length + 1));
            break;
          default: // random bytes
            stream = Buffer.from(Array.from({ length: int(300) }, () => (int(3) === 0 ? int(256) : 0)));
        }
        const chunks: number[] = [];
        for (let left = stream.length; left > 0;) {
          const n = int(3) === 0 ? 1 : 1 + int(Math.max(1, left));
          chunks.push(Math.min(n, left));
          left -= Math.min(n, left);
        }
        check(stream, chunks, maxFrameBytes, `seeded stream ${streams}`);
        streams++;
      }
      expect(streams).toBeGreaterThan(0);
    },
    SECONDS * 1000 * 2 + 30_000,
  );
});
