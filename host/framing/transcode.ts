/**
 * Re-encodes a run of decimal frames (`<len>\n<body>` back to back, as group fan-out stages them)
 * for another wire: group sends are encoded once, in the decimal framing, and members on a binary
 * or WebSocket listener get the same bodies behind their own headers.
 *
 * Memoised per target: fan-out hands one shared, never-rewritten run Buffer to every member in turn,
 * so each run is re-encoded at most once per wire however many members use that wire (the cost per
 * member stays one pointer comparison). The input must be well-formed (it is: the broker wrote it).
 */
import type { FrameHeaderCodec } from './frame-codec.js';

interface Memo<T> {
  src: Buffer | null;
  out: T | null;
}
const encodedMemo = new WeakMap<FrameHeaderCodec, Memo<Buffer>>();
const bodiesMemo: Memo<Buffer[]> = { src: null, out: null };

/** Calls `visit(start, end)` for the body of every frame of the decimal run `run`. */
function forEachBody(run: Buffer, visit: (start: number, end: number) => void): void {
  let i = 0;
  while (i < run.length) {
    let len = 0;
    while (run[i] !== 0x0a) len = len * 10 + (run[i++] - 0x30);
    i++;
    visit(i, i + len);
    i += len;
  }
}

/** `run` (decimal frames) with every header rewritten for `codec`; `run` itself when it is the decimal codec. */
export function transcodeDecimalRun(run: Buffer, codec: FrameHeaderCodec): Buffer {
  if (codec.name === 'decimal') return run;
  let memo = encodedMemo.get(codec);
  if (memo === undefined) encodedMemo.set(codec, (memo = { src: null, out: null }));
  if (memo.src === run) return memo.out!;
  let size = 0;
  forEachBody(run, (start, end) => (size += codec.headerBytes(end - start) + end - start));
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  forEachBody(run, (start, end) => {
    at = codec.writeHeader(out, at, end - start);
    at += run.copy(out, at, start, end);
  });
  memo.src = run;
  memo.out = out;
  return out;
}

/** The bodies of the decimal run `run`, as views into it (for transports that send one message per body). */
export function bodiesOfDecimalRun(run: Buffer): Buffer[] {
  if (bodiesMemo.src === run) return bodiesMemo.out!;
  const bodies: Buffer[] = [];
  forEachBody(run, (start, end) => bodies.push(run.subarray(start, end)));
  bodiesMemo.src = run;
  bodiesMemo.out = bodies;
  return bodies;
}
