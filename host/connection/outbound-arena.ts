/**
 * A bump allocator for outbound frames, shared by every connection of a broker.
 *
 * Why by hand: allocating a Buffer per frame and concatenating them per flush costs two
 * allocations and two copies per frame (≈ 0.1 µs each on this machine kind, more than the whole
 * plugin call). Here a frame's header and body are written straight into a large slab; the frames a
 * connection queues back to back (the usual case: all replies to one read chunk) form one
 * contiguous range that leaves in a single `write`. A slab region handed to a socket is not written
 * again while the socket may still hold it: a range is given back only after a write that
 * completed synchronously (see `release`); otherwise, when a slab is full a new one is started and
 * the old one is freed by the GC once the writes that reference it complete.
 */
import { DECIMAL_HEADER, type FrameHeaderCodec } from '../framing/frame-codec.js';

/** Slab size. Frames larger than a quarter of it get a Buffer of their own. */
export const ARENA_SLAB_BYTES = 256 * 1024;
const LARGE_FRAME_BYTES = ARENA_SLAB_BYTES / 4;

/**
 * What one connection has queued: an open range in the current slab (the usual case: every frame
 * queued since the last flush, back to back) and, only when something interleaved, completed
 * segments before it. An idle connection holds no array.
 */
export class OutboundBatch {
  /** Completed segments, in order, not yet written; null until one exists. */
  segments: Buffer[] | null = null;
  /** Bytes in `segments` plus the open range. */
  bytes = 0;
  /** Slab of the open range (null when none is open). */
  slab: Buffer | null = null;
  start = 0;
  end = 0;

  /** Appends a completed segment after what is queued. */
  push(segment: Buffer): void {
    this.seal();
    (this.segments ??= []).push(segment);
    this.bytes += segment.length;
  }

  /** Closes the open range into `segments`. */
  seal(): void {
    if (this.slab !== null && this.end > this.start) (this.segments ??= []).push(this.slab.subarray(this.start, this.end));
    this.slab = null;
  }

  /**
   * Takes everything queued and leaves the batch empty: one Buffer when it is one contiguous range
   * (no array is built), else the segments in order. Null when nothing is queued.
   */
  take(): Buffer | Buffer[] | null {
    if (this.bytes === 0) return null;
    this.bytes = 0;
    if (this.segments === null) {
      const one = this.slab!.subarray(this.start, this.end);
      this.slab = null;
      return one;
    }
    this.seal();
    const segments = this.segments!;
    this.segments = null;
    return segments;
  }

  /** Drops everything queued. */
  clear(): void {
    this.slab = null;
    this.segments = null;
    this.bytes = 0;
  }
}

/** The shared slab allocator. */
export class OutboundArena {
  #slab = Buffer.allocUnsafeSlow(ARENA_SLAB_BYTES);
  #used = 0;
  /** The last body view `appendFrame` made, and the range it is of (see `#bodyView`). */
  #view: Uint8Array = new Uint8Array(0);
  #viewSrc: Uint8Array | null = null;
  #viewStart = 0;
  #viewEnd = 0;

  /**
   * Gives back `slab[start, end)` once its bytes are no longer needed (the kernel took them): when it
   * is the last range handed out, the next frames reuse it instead of filling the slab, so a server
   * whose writes complete at once never allocates another slab (no garbage, no GC from it).
   */
  release(slab: Buffer, start: number, end: number): void {
    if (slab === this.#slab && end === this.#used) this.#used = start;
  }

  /** Appends the frame `src[start, end)`, behind the header of `codec` (default decimal: `<len>\n`), to `batch`. */
  appendFrame(batch: OutboundBatch, src: Uint8Array, start: number, end: number, codec: FrameHeaderCodec = DECIMAL_HEADER): void {
    const len = end - start;
    const header = codec.headerBytes(len);
    const need = header + len;
    if (need > LARGE_FRAME_BYTES) {
      const frame = Buffer.allocUnsafe(need);
      codec.writeHeader(frame, 0, len);
      frame.set(src.subarray(start, end), header);
      batch.push(frame);
      return;
    }
    if (this.#used + need > ARENA_SLAB_BYTES) {
      this.#slab = Buffer.allocUnsafeSlow(ARENA_SLAB_BYTES);
      this.#used = 0;
    }
    const slab = this.#slab;
    const at = this.#used;
    // Extend the batch's open range when the frame lands right after it; otherwise start a new one.
    if (batch.slab !== slab || batch.end !== at) {
      batch.seal();
      batch.slab = slab;
      batch.start = at;
    }
    const bodyAt = codec.writeHeader(slab, at, len);
    slab.set(this.#bodyView(src, start, end), bodyAt);
    this.#used = at + need;
    batch.end = this.#used;
    batch.bytes += need;
  }

  /**
   * `src[start, end)` as a view, reusing the last one when the range is the same. Making a view
   * (`subarray`) costs ≈ 2.5× copying the 64 bytes through it (80 vs 30 ns, bench/frame-path.js
   * and #15's note), and a plugin that answers from one reused buffer, as the SDKs' payload buffer
   * (an echo) or a static reply buffer do, sends the same range of its memory for every frame. The
   * view is live, so it always shows the current bytes; a view whose buffer was detached (the
   * plugin's memory grew) has lost its length and is made again. It keeps the last sender's buffer
   * reachable until the next frame (one buffer at most, such as the memory of an instance that
   * trapped just after sending).
   */
  #bodyView(src: Uint8Array, start: number, end: number): Uint8Array {
    const view = this.#view;
    if (src === this.#viewSrc && start === this.#viewStart && end === this.#viewEnd && view.byteLength === end - start) return view;
    this.#viewSrc = src;
    this.#viewStart = start;
    this.#viewEnd = end;
    return (this.#view = src.subarray(start, end));
  }
}
