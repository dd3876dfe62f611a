/**
 * Mutated-stream properties of the `<len>\n<body>` decoder: valid frame sequences with bytes
 * flipped, inserted, deleted, duplicated or cut off, pushed in any chunking. The decoder is checked
 * against a one-shot reference written from the README's wire-protocol section, not from the
 * decoder's state machine (differential testing, after the go-fuzz/AFL "mutate a valid corpus"
 * approach). The small random-stream properties live in decimal-decoder.test.ts; the long run is
 * `npm run fuzz` (test/fuzz/decimal-decoder.fuzz.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameBadLengthError, FrameError, FrameTooLargeError, type ErrorCode } from '../../../host/errors.js';
import { DecimalDecoder } from '../../../host/framing/decimal-decoder.js';
import { referenceDecode } from '../../helpers/reference-decoder.js';
import { encodeDecimalFrame } from '../../../host/framing/decimal-encoder.js';

/** The framing codes of the error catalogue (host/errors.ts): the only ones a decoder may return. */
const FRAME_CODES: readonly ErrorCode[] = ['PB_ERR_FRAME_BAD_LENGTH', 'PB_ERR_FRAME_HEADER_TOO_LONG', 'PB_ERR_FRAME_TOO_LARGE'];

interface Expected {
  /** Body bytes of every frame, as hex. */
  frames: string[];
  error: { code: ErrorCode; offset: number; byte?: number; declared?: number } | null;
}

/** The shared reference decoder, with frame bodies as hex for easy comparison. */
function reference(s: Uint8Array, maxFrameBytes: number): Expected {
  const r = referenceDecode(s, maxFrameBytes);
  const hex = ([a, b]: [number, number]): string => Buffer.from(s.buffer, s.byteOffset + a, b - a).toString('hex');
  return { frames: r.frames.map(hex), error: r.error };
}

/** A mutation of a byte stream; positions are fractions of the current length. */
type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; byte: number }
  | { op: 'insert'; at: number; bytes: number[] }
  | { op: 'delete'; at: number; len: number }
  | { op: 'duplicate'; at: number; len: number }
  | { op: 'truncate'; at: number };

/**
 * Applies `mutations` in order. Returns the mutated stream and the first offset that may differ
 * from the original: every byte before it is untouched (each mutation only changes bytes at or
 * after its own position, in the coordinates of the stream it is applied to).
 */
function mutate(original: Buffer, mutations: readonly Mutation[]): { stream: Buffer; firstChange: number } {
  let s = original;
  let firstChange = original.length;
  for (const m of mutations) {
    const at = Math.min(s.length, Math.floor(m.at * (s.length + 1)));
    const end = (len: number): number => Math.min(s.length, at + len);
    switch (m.op) {
      case 'flip':
      case 'set':
        if (at >= s.length) continue;
        s = Buffer.from(s);
        s[at] = m.op === 'flip' ? s[at] ^ (1 << m.bit) : m.byte;
        break;
      case 'insert':
        s = Buffer.concat([s.subarray(0, at), Buffer.from(m.bytes), s.subarray(at)]);
        break;
      case 'delete':
        s = Buffer.concat([s.subarray(0, at), s.subarray(end(m.len))]);
        break;
      case 'duplicate':
        s = Buffer.concat([s.subarray(0, end(m.len)), s.subarray(at)]);
        break;
      case 'truncate':
        s = s.subarray(0, at);
        break;
    }
    firstChange = Math.min(firstChange, at);
  }
  return { stream: s, firstChange };
}

/** Bytes the header grammar cares about (digits, CR, LF) most of the time, any byte sometimes. */
const grammarByte = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0x30, max: 0x39 }) },
  { weight: 2, arbitrary: fc.constantFrom(0x0a, 0x0d) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 255 }) },
);
/** A position in [0, 1); an integer scale spreads it more evenly than fc.double, which favours 0. */
const fraction = fc.nat({ max: 9_999 }).map((n) => n / 10_000);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fraction, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: fraction, byte: grammarByte }),
  fc.record({ op: fc.constant('insert' as const), at: fraction, bytes: fc.array(grammarByte, { minLength: 1, maxLength: 12 }) }),
  // A run of digits: lengthens a header towards MAX_LENGTH_DIGITS or starts a bogus one.
  fc.record({ op: fc.constant('insert' as const), at: fraction, bytes: fc.array(fc.integer({ min: 0x30, max: 0x39 }), { minLength: 1, maxLength: 14 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fraction, len: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ op: fc.constant('duplicate' as const), at: fraction, len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fraction }),
);

/** A valid stream: frames (CRLF or LF headers, optional leading zeros) with blank lines between. */
const validStream = fc
  .array(
    fc.record({
      body: fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 200, maxLength: 600 })),
      zeros: fc.integer({ min: 0, max: 3 }),
      eol: fc.constantFrom('\n', '\r\n'),
      before: fc.constantFrom('', '', '\n', '\r\n', '\r\n\n'),
    }),
    { minLength: 1, maxLength: 10 },
  )
  .map((specs) => {
    const parts: Buffer[] = [];
    const ends: number[] = [];
    let at = 0;
    for (const s of specs) {
      const header = Buffer.from(`${s.before}${'0'.repeat(s.zeros)}${s.body.length}${s.eol}`, 'latin1');
      parts.push(header, Buffer.from(s.body));
      at += header.length + s.body.length;
      ends.push(at);
    }
    return { stream: Buffer.concat(parts), bodies: specs.map((s) => Buffer.from(s.body)), ends };
  });

/** Cut points as fractions of the stream length (duplicates give empty chunks), or byte by byte. */
const chunking = fc.oneof({ weight: 1, arbitrary: fc.constant('bytes' as const) }, { weight: 4, arbitrary: fc.array(fraction, { maxLength: 24 }) });

function chunk(stream: Buffer, how: 'bytes' | number[]): Buffer[] {
  if (how === 'bytes') return Array.from(stream, (b) => Buffer.from([b]));
  const cuts = how.map((f) => Math.floor(f * (stream.length + 1))).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of cuts) {
    chunks.push(stream.subarray(prev, p));
    prev = p;
  }
  chunks.push(stream.subarray(prev));
  return chunks;
}

/** Longest a single push may take: these inputs are a few KB (microseconds), so only a hang comes near this; 5 s is far above a loaded machine's pauses. */
const PUSH_BUDGET_MS = 5000;

interface Observed {
  frames: string[];
  error: FrameError | null;
}

/**
 * Pushes every chunk, also after an error, and checks the decoder contract on the way: push never
 * throws, returns null or a coded FrameError, returns that same error for every later chunk, and
 * delivers nothing after it.
 */
function run(chunks: readonly Buffer[], maxFrameBytes: number): Observed {
  const frames: string[] = [];
  const decoder = new DecimalDecoder({ onFrame: (b) => void frames.push(b.toString('hex')) }, maxFrameBytes);
  let error: FrameError | null = null;
  let framesAtError = 0;
  // Plain checks in the loop (expect() per push would dominate the run time); one expect at the end.
  let violation: string | null = null;
  for (const [k, c] of chunks.entries()) {
    const t0 = performance.now();
    const result = decoder.push(c);
    const ms = performance.now() - t0;
    if (ms > PUSH_BUDGET_MS) violation ??= `push ${k} took ${ms.toFixed(0)} ms`;
    if (error !== null) {
      if (result !== error) violation ??= `push ${k} after the error returned ${String(result)}`;
    } else if (result !== null) {
      if (!(result instanceof FrameError) || !FRAME_CODES.includes(result.code)) violation ??= `push ${k} returned ${String(result)}`;
      error = result;
      framesAtError = frames.length;
    }
  }
  if (error !== null && frames.length !== framesAtError) violation ??= `${frames.length - framesAtError} frames delivered after the error`;
  expect(violation).toBeNull();
  return { frames, error };
}

function expectMatches(observed: Observed, expected: Expected): void {
  expect(observed.frames).toEqual(expected.frames);
  if (expected.error === null) {
    expect(observed.error).toBeNull();
    return;
  }
  const err = observed.error;
  expect(err?.code).toBe(expected.error.code);
  expect(err?.offset).toBe(expected.error.offset);
  if (expected.error.byte !== undefined) expect((err as FrameBadLengthError).byte).toBe(expected.error.byte);
  if (expected.error.declared !== undefined) expect((err as FrameTooLargeError).declared).toBe(expected.error.declared);
}

describe('DecimalDecoder on mutated streams', () => {
  it('agrees with the reference grammar on valid streams, in any chunking', () => {
    fc.assert(
      fc.property(validStream, chunking, ({ stream, bodies }, how) => {
        const maxFrameBytes = Math.max(1, ...bodies.map((b) => b.length));
        const expected = reference(stream, maxFrameBytes);
        // The reference is itself checked against what was encoded.
        expect(expected).toEqual({ frames: bodies.map((b) => b.toString('hex')), error: null });
        expectMatches(run(chunk(stream, how), maxFrameBytes), expected);
      }),
      { numRuns: 200 },
    );
  });

  it('turns a mutated stream into the reference frames and error (code, offset, byte), in any chunking', () => {
    fc.assert(
      fc.property(
        validStream,
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        fc.oneof(fc.constant('max' as const), fc.integer({ min: 1, max: 700 })),
        chunking,
        ({ stream, bodies }, mutations, limit, how) => {
          const maxFrameBytes = limit === 'max' ? Math.max(1, ...bodies.map((b) => b.length)) : limit;
          const mutated = mutate(stream, mutations).stream;
          const observed = run(chunk(mutated, how), maxFrameBytes);
          expectMatches(observed, reference(mutated, maxFrameBytes));
          for (const f of observed.frames) expect(f.length / 2).toBeLessThanOrEqual(maxFrameBytes);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('delivers every frame that ends before the first mutated byte, unchanged', () => {
    fc.assert(
      fc.property(validStream, fc.array(mutation, { minLength: 1, maxLength: 6 }), chunking, ({ stream, bodies, ends }, mutations, how) => {
        const maxFrameBytes = Math.max(1, ...bodies.map((b) => b.length));
        const { stream: mutated, firstChange } = mutate(stream, mutations);
        const intact = ends.filter((e) => e <= firstChange).length;
        const observed = run(chunk(mutated, how), maxFrameBytes);
        expect(observed.frames.slice(0, intact)).toEqual(bodies.slice(0, intact).map((b) => b.toString('hex')));
      }),
      { numRuns: 300 },
    );
  });

  it('stops at halt() called from onFrame, whatever follows in the mutated stream', () => {
    fc.assert(
      fc.property(validStream, fc.array(mutation, { maxLength: 4 }), fc.nat({ max: 12 }), chunking, ({ stream, bodies }, mutations, haltAfter, how) => {
        const maxFrameBytes = Math.max(1, ...bodies.map((b) => b.length));
        const mutated = mutate(stream, mutations).stream;
        const expected = reference(mutated, maxFrameBytes);
        const frames: string[] = [];
        const decoder = new DecimalDecoder(
          {
            onFrame(b) {
              frames.push(b.toString('hex'));
              if (frames.length === haltAfter + 1) decoder.halt();
            },
          },
          maxFrameBytes,
        );
        let error: FrameError | null = null;
        for (const c of chunk(mutated, how)) error ??= decoder.push(c);
        const halted = expected.frames.length > haltAfter;
        expect(frames).toEqual(expected.frames.slice(0, haltAfter + 1));
        // A halted decoder reports nothing; one that never reached the halt reports the reference error.
        expect(error?.code ?? null).toBe(halted ? null : (expected.error?.code ?? null));
      }),
      { numRuns: 200 },
    );
  });

  it('decodes mutated copies of encoder output the same way (encoder and decoder agree)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 8 }),
        fc.array(mutation, { maxLength: 4 }),
        chunking,
        (bodies, mutations, how) => {
          const stream = Buffer.concat(bodies.map((b) => encodeDecimalFrame(b)));
          const maxFrameBytes = Math.max(1, ...bodies.map((b) => b.length));
          const mutated = mutate(stream, mutations).stream;
          expectMatches(run(chunk(mutated, how), maxFrameBytes), reference(mutated, maxFrameBytes));
        },
      ),
      { numRuns: 200 },
    );
  });
});
