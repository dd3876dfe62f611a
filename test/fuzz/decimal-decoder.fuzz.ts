/**
 * Long fuzz run of the `<len>\n<body>` decoder (`npm run fuzz`; `FUZZ_SECONDS`, default 60). Not
 * part of `npm test`: vitest.fuzz.config.ts picks up `test/fuzz/**\/*.fuzz.ts` only. The fast
 * versions of these properties run in `npm test` (test/unit/framing/decimal-decoder*.test.ts).
 *
 * Inputs: fast-check arbitraries (shrinkable counterexamples), then a seeded generator of random,
 * grammar-biased, valid, mutated (bit flips, inserted/deleted/duplicated/moved ranges, digit runs,
 * oversize headers, truncation), trickled and oversize-header streams, split at random points. The
 * mutate-a-valid-corpus approach is the one of AFL and go-fuzz; the oracle is a one-shot reference
 * decoder written from the README's wire-protocol section (differential testing).
 *
 * Every stream must: decode exactly as the reference does (frames, error code, offset, byte); yield
 * at most one error, a `FrameError` whose code is in the catalogue, returned again for every later
 * chunk, with no frame after it; never throw; deliver no frame above maxFrameBytes; take time
 * linear in its size (each push bounded; a watchdog thread kills the run on a true hang, writing the
 * input to the temp directory). Memory: the body under assembly grows with the bytes received, not
 * with the declared length, is released after delivery or halt(), and nothing accumulates across
 * streams (measured with `--expose-gc`).
 *
 * Environment: FUZZ_SECONDS (time budget of the fuzz loops, default 60), FUZZ_SEED (uint32 seed of
 * the generator; printed at start), FUZZ_INDEX (with FUZZ_SEED: replay only that stream).
 */
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FrameBadLengthError, FrameError, FrameHeaderTooLongError, FrameTooLargeError, type ErrorCode } from '../../host/errors.js';
import { DecimalDecoder } from '../../host/framing/decimal-decoder.js';
import { referenceDecode } from '../helpers/reference-decoder.js';
import { encodeDecimalFrame } from '../../host/framing/decimal-encoder.js';
import { DEFAULT_MAX_FRAME_BYTES, MAX_FRAME_BYTES_CEILING, MAX_LENGTH_DIGITS } from '../../host/limits.js';

const SECONDS = Number(process.env.FUZZ_SECONDS ?? 60);
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const REPLAY = process.env.FUZZ_INDEX !== undefined ? Number(process.env.FUZZ_INDEX) : undefined;
/** Share of the budget for the fast-check properties; the seeded generator gets the rest. */
const FC_SHARE = 0.3;
/** A push is linear in its chunk: this much plus 1 µs per byte is already three orders of magnitude slack. */
const PUSH_BUDGET_MS = 250;
/** No progress for this long means a hang; the watchdog then kills the process. */
const HANG_MS = 10_000;

/** The framing codes of the error catalogue (host/errors.ts), with the class each must come as. */
const FRAME_ERROR_CLASSES: ReadonlyMap<ErrorCode, new (...args: never[]) => FrameError> = new Map<ErrorCode, new (...args: never[]) => FrameError>([
  ['PB_ERR_FRAME_BAD_LENGTH', FrameBadLengthError],
  ['PB_ERR_FRAME_HEADER_TOO_LONG', FrameHeaderTooLongError],
  ['PB_ERR_FRAME_TOO_LARGE', FrameTooLargeError],
]);

const gc = (globalThis as { gc?: () => void }).gc;

// ---------------------------------------------------------------------------------------------
// Reference decoder

const reference = referenceDecode;

// ---------------------------------------------------------------------------------------------
// Running one input through the decoder, with every check

interface Case {
  stream: Buffer;
  /** Lengths of the chunks the stream is pushed in; they sum to `stream.length`. */
  chunks: number[];
  maxFrameBytes: number;
  /** Call halt() from onFrame after this many frames (0-based index of the frame), or never. */
  haltAt?: number;
}

interface Outcome {
  frames: number;
  error: FrameError | null;
}

/** Thrown with everything needed to replay the failing input. */
class FuzzFailure extends Error {}

/** Shared with the watchdog: [progress tick, input length, busy, maxFrameBytes, chunk count]. */
const WATCH_STATE = new Int32Array(new SharedArrayBuffer(5 * 4));
const WATCH_INPUT_CAP = 8 * 1024 * 1024;
const WATCH_INPUT = new Uint8Array(new SharedArrayBuffer(WATCH_INPUT_CAP));
const WATCH_CHUNKS_CAP = 1 << 20;
const WATCH_CHUNKS = new Int32Array(new SharedArrayBuffer(WATCH_CHUNKS_CAP * 4));

/** Publishes the input about to be decoded, so that the watchdog can dump it on a hang. */
function publish(c: Case): void {
  const n = Math.min(c.stream.length, WATCH_INPUT_CAP);
  WATCH_INPUT.set(c.stream.subarray(0, n));
  const k = Math.min(c.chunks.length, WATCH_CHUNKS_CAP);
  for (let j = 0; j < k; j++) WATCH_CHUNKS[j] = c.chunks[j];
  Atomics.store(WATCH_STATE, 1, n);
  Atomics.store(WATCH_STATE, 3, c.maxFrameBytes);
  Atomics.store(WATCH_STATE, 4, k);
  Atomics.add(WATCH_STATE, 0, 1);
}

/**
 * Decodes `c` and checks it against the reference and the decoder contract. Returns what
 * happened; throws FuzzFailure (described by `what`) on any violation, including a throw from push.
 */
function check(c: Case, what: () => string): Outcome {
  const { stream, maxFrameBytes } = c;
  const expected = reference(stream, maxFrameBytes);
  const fail = (why: string): never => {
    const file = join(tmpdir(), `plugbroker-fuzz-${process.pid}-${Date.now()}.bin`);
    writeFileSync(file, stream);
    const chunks = c.chunks.length > 40 ? `${c.chunks.slice(0, 40).join(',')},… (${c.chunks.length} chunks)` : c.chunks.join(',');
    throw new FuzzFailure(
      `${why}\n  input: ${what()}\n  maxFrameBytes ${maxFrameBytes}, haltAt ${c.haltAt ?? 'never'}, ${stream.length} bytes written to ${file}\n` +
        `  chunks: ${chunks}\n  first bytes: ${stream.subarray(0, 64).toString('hex')}`,
    );
  };

  let delivered = 0;
  let halted = false;
  let error: FrameError | null = null;
  let framesAtError = 0;
  const decoder: DecimalDecoder = new DecimalDecoder(
    {
      onFrame(body) {
        if (halted) fail(`frame ${delivered} delivered after halt()`);
        if (error !== null) fail(`frame ${delivered} delivered after the error ${error.code}`);
        if (body.length > maxFrameBytes) fail(`frame ${delivered} of ${body.length} bytes exceeds maxFrameBytes`);
        const want = expected.frames[delivered];
        if (want === undefined) fail(`frame ${delivered} delivered; the reference has ${expected.frames.length}`);
        if (!body.equals(stream.subarray(want[0], want[1]))) fail(`frame ${delivered} differs from stream[${want[0]}, ${want[1]})`);
        if (delivered++ === c.haltAt) {
          halted = true;
          decoder.halt();
        }
      },
    },
    maxFrameBytes,
  );

  let at = 0;
  for (const [k, len] of c.chunks.entries()) {
    const chunk = stream.subarray(at, at + len);
    at += len;
    let result: FrameError | null;
    const t0 = performance.now();
    try {
      result = decoder.push(chunk);
    } catch (thrown) {
      if (thrown instanceof FuzzFailure) throw thrown;
      return fail(`push ${k} threw ${thrown instanceof Error ? thrown.stack : String(thrown)}`);
    }
    const ms = performance.now() - t0;
    if (ms > PUSH_BUDGET_MS + len / 1000) fail(`push ${k} of ${len} bytes took ${ms.toFixed(1)} ms`);
    if (error !== null) {
      if (result !== error) fail(`push ${k} after the error returned ${String(result)}`);
    } else if (result !== null) {
      if (halted) fail(`push ${k} after halt() returned ${String(result)}`);
      const cls = FRAME_ERROR_CLASSES.get((result as FrameError).code);
      if (cls === undefined || !(result instanceof cls)) fail(`push ${k} returned ${String(result)}, not a coded FrameError`);
      error = result;
      framesAtError = delivered;
    }
  }
  if (at !== stream.length) fail(`chunks cover ${at} of ${stream.length} bytes (harness bug)`);
  if (error !== null) {
    // Once failed, always failed: one more chunk of anything returns the same error.
    if (decoder.push(Buffer.from('1\na')) !== error) fail('a later push did not return the same error');
    if (delivered !== framesAtError) fail('frames delivered after the error');
  }

  // Against the reference. A halt() before the reference's last frame hides everything after it.
  const haltedEarly = c.haltAt !== undefined && c.haltAt < expected.frames.length;
  const wantFrames = haltedEarly ? c.haltAt! + 1 : expected.frames.length;
  if (delivered !== wantFrames) fail(`${delivered} frames delivered, reference ${wantFrames}`);
  const want = haltedEarly ? null : expected.error;
  if (want === null) {
    if (error !== null) fail(`error ${error.code} at ${error.offset}; the reference has none`);
  } else {
    if (error === null) fail(`no error; the reference has ${want.code} at ${want.offset}`);
    const e = error as FrameError;
    if (e.code !== want.code || e.offset !== want.offset) fail(`error ${e.code} at ${e.offset}; the reference has ${want.code} at ${want.offset}`);
    if (want.byte !== undefined && (e as FrameBadLengthError).byte !== want.byte) fail(`error byte ${(e as FrameBadLengthError).byte}, reference ${want.byte}`);
    if (want.declared !== undefined && (e as FrameTooLargeError).declared !== want.declared)
      fail(`declared ${(e as FrameTooLargeError).declared}, reference ${want.declared}`);
    if (e.offset < 0 || e.offset > stream.length) fail(`error offset ${e.offset} outside the stream`);
  }
  return { frames: delivered, error };
}

// ---------------------------------------------------------------------------------------------
// Seeded generator

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator), seeded per stream from (seed, index). */
class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d = 1;
  constructor(seed: number, index: number) {
    this.#a = seed ^ 0x9e3779b9;
    this.#b = index ^ 0x243f6a88;
    this.#c = Math.imul(index + 1, 0x85ebca6b) ^ 0xb7e15162;
    for (let i = 0; i < 15; i++) this.u32();
  }
  u32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }
  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  /** Small values far more often than large ones: uniform in [0, n) of a uniform n in [1, max]. */
  skewed(max: number): number {
    return this.int(this.int(max) + 1);
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) b.writeUInt32LE(this.u32(), i);
    for (; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
  /** Mostly digits, CR and LF: the bytes the header grammar branches on. */
  grammarByte(): number {
    const r = this.int(10);
    return r < 5 ? 0x30 + this.int(10) : r < 7 ? 0x0a : r < 8 ? 0x0d : this.int(256);
  }
  grammarBytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.grammarByte();
    return b;
  }
}

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');

/** A body size: mostly small, sometimes up to 64 KiB, rarely exactly `max`. */
function bodySize(r: Rng, max: number): number {
  const p = r.float();
  const size = p < 0.15 ? 0 : p < 0.6 ? r.range(1, 64) : p < 0.95 ? r.range(65, 4096) : p < 0.995 ? r.range(4097, 65536) : max;
  return Math.min(size, max);
}

/** A header for `length`: optional leading zeros (up to MAX_LENGTH_DIGITS in all), LF or CRLF, blank lines before. */
function header(r: Rng, length: number): string {
  const digits = String(length);
  const zeros = r.chance(0.1) ? r.int(MAX_LENGTH_DIGITS - digits.length + 1) : 0;
  const blank = r.chance(0.15) ? r.pick(['\n', '\r\n', '\n\n', '\r\n\r\n', '\n\r\n']) : '';
  return `${blank}${'0'.repeat(zeros)}${digits}${r.chance(0.3) ? '\r\n' : '\n'}`;
}

/** A valid frame sequence whose bodies fit `max`. */
function validStream(r: Rng, max: number): Buffer {
  const parts: Buffer[] = [];
  const n = 1 + r.skewed(40);
  for (let k = 0; k < n; k++) {
    const size = bodySize(r, max);
    // Bodies full of digits and newlines make every later desynchronisation parse as headers.
    const body = r.chance(0.3) ? r.grammarBytes(size) : r.bytes(size);
    parts.push(ascii(header(r, size)), body);
  }
  if (r.chance(0.2)) parts.push(ascii(r.pick(['\n', '\r\n', '\r'])));
  return Buffer.concat(parts);
}

/** Applies 1–8 random mutations: the byte-level operators of AFL's havoc stage, plus header-aware ones. */
function mutateStream(r: Rng, s: Buffer, max: number): Buffer {
  const n = 1 + r.skewed(8);
  for (let k = 0; k < n; k++) {
    const at = r.int(s.length + 1);
    const len = r.chance(0.9) ? r.range(1, 16) : r.range(17, 4096);
    const end = Math.min(s.length, at + len);
    switch (r.int(10)) {
      case 0: // flip a bit
        if (at < s.length) (s = Buffer.from(s))[at] ^= 1 << r.int(8);
        break;
      case 1: // overwrite a byte, grammar-biased
        if (at < s.length) (s = Buffer.from(s))[at] = r.grammarByte();
        break;
      case 2: // insert random or grammar bytes
        s = Buffer.concat([s.subarray(0, at), r.chance(0.5) ? r.grammarBytes(r.range(1, 12)) : r.bytes(r.range(1, 64)), s.subarray(at)]);
        break;
      case 3: // insert a run of digits (long headers, bogus lengths)
        s = Buffer.concat([s.subarray(0, at), ascii('123456789012345'.slice(0, r.range(1, 15))), s.subarray(at)]);
        break;
      case 4: // delete a range
        s = Buffer.concat([s.subarray(0, at), s.subarray(end)]);
        break;
      case 5: // duplicate a range in place
        s = Buffer.concat([s.subarray(0, end), s.subarray(at)]);
        break;
      case 6: {
        // move a range elsewhere
        const piece = Buffer.from(s.subarray(at, end));
        const rest = Buffer.concat([s.subarray(0, at), s.subarray(end)]);
        const to = r.int(rest.length + 1);
        s = Buffer.concat([rest.subarray(0, to), piece, rest.subarray(to)]);
        break;
      }
      case 7: // splice in a header just above the limit, at the limit, or a lone CR
        s = Buffer.concat([
          s.subarray(0, at),
          ascii(r.pick([`${max + 1}\n`, `${max}\r\n`, `${max + r.range(1, 1e6)}\n`, '\r', '0\n', '\r\n'])),
          s.subarray(at),
        ]);
        break;
      case 8: // truncate
        s = s.subarray(0, at);
        break;
      case 9: // splice in a valid frame
        s = Buffer.concat([s.subarray(0, at), encodeDecimalFrame(r.bytes(Math.min(max, r.skewed(300)))), s.subarray(at)]);
        break;
    }
  }
  return s;
}

/** A maxFrameBytes for a stream whose largest body is `largest`. */
function limitFor(r: Rng, largest: number): number {
  const p = r.float();
  if (p < 0.4) return Math.max(1, largest); // the largest body sits exactly at the limit
  if (p < 0.6) return DEFAULT_MAX_FRAME_BYTES;
  if (p < 0.9) return r.range(1, Math.max(1, largest));
  return r.pick([1, 2, 9, 10, 4096, MAX_FRAME_BYTES_CEILING]);
}

function largestBody(s: Buffer): number {
  return Math.max(0, ...reference(s, MAX_FRAME_BYTES_CEILING).frames.map(([a, b]) => b - a));
}

/** Chunk lengths for a stream of `n` bytes. */
function chunking(r: Rng, n: number): number[] {
  const p = r.float();
  if (p < 0.15 || n === 0) return [n];
  if (p < 0.25 && n <= 16_384) return Array.from({ length: n }, () => 1);
  if (p < 0.5 && n <= 262_144) {
    // small chunks, empty ones included
    const out: number[] = [];
    for (let left = n; left > 0;) {
      const len = Math.min(left, r.int(17));
      out.push(len);
      left -= len;
    }
    return out;
  }
  const cuts = Array.from({ length: 1 + r.skewed(64) }, () => r.int(n + 1)).sort((a, b) => a - b);
  const out: number[] = [];
  let prev = 0;
  for (const c of cuts) {
    out.push(c - prev);
    prev = c;
  }
  out.push(n - prev);
  return out;
}

type Kind = 'random' | 'grammar' | 'valid' | 'mutated' | 'trickle' | 'oversize';
/** Mutated streams most of the time; trickles (slow by design: thousands of pushes each) rarely. */
const KINDS: readonly Kind[] = [
  ...Array<Kind>(2).fill('random'),
  ...Array<Kind>(2).fill('grammar'),
  ...Array<Kind>(2).fill('valid'),
  ...Array<Kind>(10).fill('mutated'),
  ...Array<Kind>(3).fill('oversize'),
  'trickle',
];

/** Stream number `index` of the run seeded with `seed`: the same pair always gives the same case. */
function generate(seed: number, index: number): { kind: Kind; c: Case } {
  const r = new Rng(seed, index);
  const kind = r.pick(KINDS);
  let stream: Buffer;
  let maxFrameBytes: number;
  let chunks: number[] | undefined;
  switch (kind) {
    case 'random':
      stream = r.bytes(r.skewed(4096));
      maxFrameBytes = r.pick([1, 64, DEFAULT_MAX_FRAME_BYTES]);
      break;
    case 'grammar':
      stream = r.grammarBytes(r.skewed(4096));
      maxFrameBytes = r.pick([1, 10, 100, 99_999, DEFAULT_MAX_FRAME_BYTES]);
      break;
    case 'valid': {
      const max = r.chance(0.05) ? DEFAULT_MAX_FRAME_BYTES : 65_536;
      stream = validStream(r, max);
      maxFrameBytes = r.chance(0.5) ? Math.max(1, largestBody(stream)) : max;
      break;
    }
    case 'mutated': {
      const max = r.chance(0.05) ? DEFAULT_MAX_FRAME_BYTES : 65_536;
      const original = validStream(r, max);
      stream = mutateStream(r, original, max);
      maxFrameBytes = limitFor(r, largestBody(original));
      break;
    }
    case 'trickle': {
      // A large declared body fed in tiny pieces, maybe never finished: time and memory must stay linear.
      maxFrameBytes = r.chance(0.5) ? DEFAULT_MAX_FRAME_BYTES : r.range(1, DEFAULT_MAX_FRAME_BYTES);
      const declared = r.chance(0.1) ? maxFrameBytes : r.chance(0.3) ? r.range(0, maxFrameBytes) : r.skewed(Math.min(maxFrameBytes, 65_536) + 1);
      const sent = r.chance(0.5) ? declared : r.int(declared + 1);
      stream = Buffer.concat([ascii(header(r, declared)), r.bytes(sent), r.chance(0.5) ? ascii('1\nx') : Buffer.alloc(0)]);
      // At most ~64k pushes per stream, each of 1–16 bytes when the body is small enough.
      const piece = Math.max(1 + r.int(16), Math.ceil(stream.length / 65_536));
      chunks = [];
      for (let left = stream.length; left > 0; left -= piece) chunks.push(Math.min(piece, left));
      break;
    }
    case 'oversize': {
      maxFrameBytes = r.pick([1, r.range(1, 1024), DEFAULT_MAX_FRAME_BYTES, MAX_FRAME_BYTES_CEILING]);
      const heads = [
        String(maxFrameBytes + 1 + r.skewed(1_000_000)),
        String(r.range(1_000_000_000, 9_999_999_999)), // ten digits, above every limit
        '9'.repeat(r.range(MAX_LENGTH_DIGITS + 1, 30)), // too many digits
        '0'.repeat(r.range(MAX_LENGTH_DIGITS - 1, MAX_LENGTH_DIGITS + 2)) + '1', // leading zeros around the digit limit
        String(maxFrameBytes), // exactly the limit: valid
      ];
      const before = r.chance(0.5) ? validStream(r, Math.min(maxFrameBytes, 4096)) : Buffer.alloc(0);
      stream = Buffer.concat([before, ascii(r.pick(heads) + r.pick(['\n', '\r\n', '', '\r'])), r.bytes(r.skewed(2048))]);
      break;
    }
  }
  chunks ??= chunking(r, stream.length);
  const haltAt = r.chance(0.05) ? r.skewed(20) : undefined;
  return { kind, c: { stream, chunks, maxFrameBytes, haltAt } };
}

// ---------------------------------------------------------------------------------------------
// Bookkeeping

interface Tally {
  streams: number;
  bytes: number;
  frames: number;
  ms: number;
  errors: Partial<Record<ErrorCode, number>>;
}
const tallies = new Map<string, Tally>();
/** Wall time of each fuzz loop (generation included) and how many streams it ran. */
const walls: Array<{ name: string; streams: number; ms: number }> = [];

function tally(kind: string, bytes: number, outcome: Outcome, ms: number): void {
  let t = tallies.get(kind);
  if (t === undefined) tallies.set(kind, (t = { streams: 0, bytes: 0, frames: 0, ms: 0, errors: {} }));
  t.streams++;
  t.bytes += bytes;
  t.frames += outcome.frames;
  t.ms += ms;
  if (outcome.error !== null) t.errors[outcome.error.code] = (t.errors[outcome.error.code] ?? 0) + 1;
}

function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}

/** arrayBuffers (Buffer memory) and heapUsed after a full collection, in bytes. */
function settledMemory(): { arrayBuffers: number; heapUsed: number } {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { arrayBuffers: m.arrayBuffers, heapUsed: m.heapUsed };
}

// ---------------------------------------------------------------------------------------------

describe(`DecimalDecoder fuzz (seed ${SEED}, ${SECONDS} s)`, () => {
  let watchdog: Worker | undefined;
  beforeAll(() => {
    // A synchronous hang cannot be interrupted from this thread: a watchdog thread sees the
    // progress tick stop, writes the input being decoded to the temp directory and kills the process.
    watchdog = new Worker(
      `const { workerData: w } = require('node:worker_threads');
       const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
       const state = new Int32Array(w.state), input = new Uint8Array(w.input), chunks = new Int32Array(w.chunks);
       let last = -1, since = Date.now();
       setInterval(() => {
         const tick = Atomics.load(state, 0);
         if (tick !== last || Atomics.load(state, 2) === 0) { last = tick; since = Date.now(); return; }
         if (Date.now() - since < w.hangMs) return;
         const file = path.join(os.tmpdir(), 'plugbroker-fuzz-hang-' + process.pid + '.bin');
         fs.writeFileSync(file, input.subarray(0, Atomics.load(state, 1)));
         const k = Atomics.load(state, 4);
         fs.writeSync(2, 'FUZZ HANG: the decoder made no progress for ' + w.hangMs + ' ms (seed ' + w.seed + ')\\n' +
           '  maxFrameBytes ' + Atomics.load(state, 3) + ', input written to ' + file + '\\n' +
           '  chunk lengths: ' + Array.from(chunks.subarray(0, Math.min(k, 100))).join(',') + (k > 100 ? ',… (' + k + ')' : '') + '\\n');
         process.kill(process.pid, 'SIGKILL');
       }, 250);`,
      { eval: true, workerData: { state: WATCH_STATE.buffer, input: WATCH_INPUT.buffer, chunks: WATCH_CHUNKS.buffer, hangMs: HANG_MS, seed: SEED } },
    );
    watchdog.unref();
  });
  // Only the fuzz loops are watched: the busy flag is up while one runs.
  beforeEach(() => void Atomics.store(WATCH_STATE, 2, 1));
  afterEach(() => void Atomics.store(WATCH_STATE, 2, 0));

  afterAll(async () => {
    await watchdog?.terminate();
    const rows = [...tallies.entries()].map(([kind, t]) => {
      const s = t.ms / 1000;
      const errors = Object.entries(t.errors)
        .map(([code, n]) => `${code.replace('PB_ERR_FRAME_', '')} ${n}`)
        .join(', ');
      return `  ${kind.padEnd(24)} ${String(t.streams).padStart(9)} streams ${String(Math.round(t.streams / s)).padStart(8)}/s ${mib(t.bytes).padStart(9)} MiB ${(t.bytes / 1048576 / s).toFixed(1).padStart(7)} MiB/s ${String(t.frames).padStart(9)} frames  ${errors}`;
    });
    const total = [...tallies.values()].reduce((a, t) => ({ streams: a.streams + t.streams, bytes: a.bytes + t.bytes, ms: a.ms + t.ms }), {
      streams: 0,
      bytes: 0,
      ms: 0,
    });
    console.log(
      `decoder fuzz, seed ${SEED} (replay: FUZZ_SEED=${SEED} npm run fuzz), time spent decoding + checking:\n${rows.join('\n')}\n` +
        `  ${'total'.padEnd(24)} ${String(total.streams).padStart(9)} streams ${String(Math.round(total.streams / (total.ms / 1000))).padStart(8)}/s ${mib(total.bytes).padStart(9)} MiB ${(total.bytes / 1048576 / (total.ms / 1000)).toFixed(1).padStart(7)} MiB/s\n` +
        walls
          .map(
            (w) =>
              `  wall time, generation included: ${w.name} ${w.streams} streams in ${(w.ms / 1000).toFixed(1)} s (${Math.round(w.streams / (w.ms / 1000))}/s)`,
          )
          .join('\n'),
    );
  });

  it('runs on --expose-gc (vitest.fuzz.config.ts)', () => {
    expect(typeof gc).toBe('function');
  });

  it.skipIf(REPLAY !== undefined)(
    'agrees with the reference on fast-check mutated streams, random streams and chunkings',
    () => {
      const fraction = fc.nat({ max: 99_999 }).map((n) => n / 100_000);
      const mutation = fc.oneof(
        fc.record({ op: fc.constant('set' as const), at: fraction, byte: fc.nat({ max: 255 }) }),
        fc.record({ op: fc.constant('insert' as const), at: fraction, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
        fc.record({ op: fc.constant('insert' as const), at: fraction, bytes: fc.stringMatching(/^[0-9\r\n]{1,16}$/).map(ascii) }),
        fc.record({ op: fc.constant('delete' as const), at: fraction, len: fc.integer({ min: 1, max: 300 }) }),
        fc.record({ op: fc.constant('duplicate' as const), at: fraction, len: fc.integer({ min: 1, max: 300 }) }),
        fc.record({ op: fc.constant('truncate' as const), at: fraction }),
      );
      const frames = fc.array(
        fc.record({
          body: fc.oneof(
            fc.uint8Array({ maxLength: 64 }),
            fc.uint8Array({ maxLength: 5000, size: 'medium' }),
            fc.stringMatching(/^[0-9\r\n]{0,40}$/).map(ascii),
          ),
          eol: fc.constantFrom('\n', '\r\n'),
          zeros: fc.integer({ min: 0, max: 4 }),
          before: fc.constantFrom('', '', '\n', '\r\n'),
        }),
        { maxLength: 30, size: 'medium' },
      );
      const input = fc.oneof(
        // mutated valid streams
        fc.tuple(frames, fc.array(mutation, { maxLength: 8 })).map(([specs, muts]) => {
          let s = Buffer.concat(specs.flatMap((f) => [ascii(`${f.before}${'0'.repeat(f.zeros)}${f.body.length}${f.eol}`), Buffer.from(f.body)]));
          const largest = Math.max(1, ...specs.map((f) => f.body.length));
          for (const m of muts) {
            const at = Math.floor(m.at * (s.length + 1));
            if (m.op === 'set') {
              if (at < s.length) (s = Buffer.from(s))[at] = m.byte;
            } else if (m.op === 'insert') s = Buffer.concat([s.subarray(0, at), Buffer.from(m.bytes), s.subarray(at)]);
            else if (m.op === 'delete') s = Buffer.concat([s.subarray(0, at), s.subarray(at + m.len)]);
            else if (m.op === 'duplicate') s = Buffer.concat([s.subarray(0, at + m.len), s.subarray(at)]);
            else s = s.subarray(0, at);
          }
          return { stream: s, largest };
        }),
        // raw random and grammar-biased bytes
        fc.oneof(fc.uint8Array({ maxLength: 2000 }), fc.stringMatching(/^[0-9\r\nx]{0,300}$/).map(ascii)).map((b) => ({ stream: Buffer.from(b), largest: 64 })),
      );
      const limit = fc.oneof(fc.constant('largest' as const), fc.integer({ min: 1, max: 6000 }), fc.constant(DEFAULT_MAX_FRAME_BYTES));
      const cuts = fc.oneof(fc.constant('bytes' as const), fc.array(fraction, { maxLength: 64 }));
      const haltAt = fc.option(fc.nat({ max: 30 }), { freq: 10 });
      const start = performance.now();
      let streams = 0;
      fc.assert(
        fc.property(input, limit, cuts, haltAt, ({ stream, largest }, lim, how, halt) => {
          const n = stream.length;
          let chunks: number[];
          if (how === 'bytes') chunks = Array.from({ length: n }, () => 1);
          else {
            const points = how.map((f) => Math.floor(f * (n + 1))).sort((a, b) => a - b);
            chunks = [...points, n].map((p, j) => p - (j === 0 ? 0 : points[j - 1]));
          }
          const c: Case = { stream, chunks, maxFrameBytes: lim === 'largest' ? largest : lim, haltAt: halt ?? undefined };
          publish(c);
          const t0 = performance.now();
          const outcome = check(c, () => 'fast-check case (see the counterexample below)');
          tally('fast-check', n, outcome, performance.now() - t0);
          streams++;
        }),
        {
          seed: SEED | 0,
          numRuns: Number.MAX_SAFE_INTEGER,
          interruptAfterTimeLimit: SECONDS * 1000 * FC_SHARE,
          markInterruptAsFailure: false,
        },
      );
      walls.push({ name: 'fast-check', streams, ms: performance.now() - start });
    },
    SECONDS * 1000 + 120_000,
  );

  it(
    'agrees with the reference on seeded random, valid, mutated, trickled and oversize streams',
    () => {
      const base = settledMemory();
      const indexes = REPLAY !== undefined ? [REPLAY] : undefined;
      const deadline = performance.now() + SECONDS * 1000 * (1 - FC_SHARE);
      const start = performance.now();
      let streams = 0;
      for (let index = 0; indexes ? index < 1 : performance.now() < deadline; index++, streams++) {
        const i = indexes ? indexes[0] : index;
        const { kind, c } = generate(SEED, i);
        publish(c);
        const t0 = performance.now();
        const outcome = check(c, () => `${kind} stream FUZZ_SEED=${SEED} FUZZ_INDEX=${i} npm run fuzz`);
        tally(kind, c.stream.length, outcome, performance.now() - t0);
        if (i % 20_000 === 19_999) {
          // Nothing may accumulate across streams: every decoder and input of the run is garbage now.
          const m = settledMemory();
          expect(m.arrayBuffers - base.arrayBuffers, `Buffer memory after stream ${i}`).toBeLessThan(32 * 1048576);
          expect(m.heapUsed - base.heapUsed, `heap after stream ${i}`).toBeLessThan(64 * 1048576);
        }
      }
      walls.push({ name: 'seeded', streams, ms: performance.now() - start });
      const end = settledMemory();
      expect(end.arrayBuffers - base.arrayBuffers).toBeLessThan(32 * 1048576);
      expect(end.heapUsed - base.heapUsed).toBeLessThan(64 * 1048576);
    },
    SECONDS * 1000 + 120_000,
  );

  describe('memory', () => {
    /** Buffer memory per decoder held by `decoders` after `feed`, with everything else collected. */
    function perDecoder(count: number, maxFrameBytes: number, feed: (d: DecimalDecoder) => void, sink: (b: Buffer) => void = () => {}): number {
      const before = settledMemory().arrayBuffers;
      const decoders: DecimalDecoder[] = [];
      for (let k = 0; k < count; k++) {
        const d = new DecimalDecoder({ onFrame: sink }, maxFrameBytes);
        feed(d);
        decoders.push(d);
      }
      const after = settledMemory().arrayBuffers;
      expect(decoders).toHaveLength(count); // keeps them alive until measured
      return (after - before) / count;
    }

    const COUNT = 2000;
    // Chunks are views into this one buffer: they cost nothing per decoder.
    const SOURCE = Buffer.alloc(1 << 20, 0x61);

    it('holds a declared 1 MiB body by the bytes received (≤ 8 KiB for 100 bytes), not by the declared length', () => {
      const bytes = perDecoder(COUNT, DEFAULT_MAX_FRAME_BYTES, (d) => {
        d.push(ascii(`${DEFAULT_MAX_FRAME_BYTES}\n`));
        for (let k = 0; k < 100; k += 10) d.push(SOURCE.subarray(0, 10));
      });
      // The body buffer starts at 4 KiB; 2000 × 1 MiB would have been 2 GiB.
      expect(bytes).toBeLessThanOrEqual(8192);
    });

    it('grows a trickled body at most to twice the bytes received', () => {
      const received = 100 * 1024;
      const bytes = perDecoder(200, DEFAULT_MAX_FRAME_BYTES, (d) => {
        d.push(ascii(`${DEFAULT_MAX_FRAME_BYTES}\n`));
        for (let k = 0; k < received; k += 1024) d.push(SOURCE.subarray(0, 1024));
      });
      expect(bytes).toBeLessThanOrEqual(2 * received + 4096);
      expect(bytes).toBeGreaterThanOrEqual(received); // the measurement does see the bodies
    });

    it('holds nothing once a split body was delivered, or after halt() or a protocol error', () => {
      const delivered = perDecoder(COUNT, DEFAULT_MAX_FRAME_BYTES, (d) => {
        d.push(ascii('65536\n'));
        for (let k = 0; k < 65536; k += 4096) d.push(SOURCE.subarray(0, 4096));
      });
      const halted = perDecoder(COUNT, DEFAULT_MAX_FRAME_BYTES, (d) => {
        d.push(ascii(`${DEFAULT_MAX_FRAME_BYTES}\n`));
        d.push(SOURCE.subarray(0, 65536));
        d.halt();
      });
      const failed = perDecoder(COUNT, 1000, (d) => {
        d.push(ascii('999\n'));
        d.push(SOURCE.subarray(0, 500)); // assembled in a buffer of its own, then released
        d.push(SOURCE.subarray(0, 499));
        d.push(ascii('1001\n'));
        d.push(SOURCE.subarray(0, 4096));
      });
      for (const bytes of [delivered, halted, failed]) expect(bytes).toBeLessThan(1024);
    });
  });
});
