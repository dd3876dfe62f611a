/**
 * `FanOut`: sends one frame to many connections with as little work per member as possible.
 *
 * Why staged: a `write` per delivery costs ≈ 7 µs, batched ≈ 0.45 µs (docs/measurements.md, Fan-out), and
 * copying the frame into each member's own batch still costs an allocation per member and frame.
 * Here a group send encodes its frame once, into a shared slab, right behind the previous group
 * send when it went to the same members with the same exception. Such a run of frames stays one
 * contiguous range; it is handed to each member as one shared, never-rewritten Buffer when the run
 * ends: at the end of the tick, or before anything else could be sent to a member (a unicast send,
 * a close, a membership change, a send to another group). Per member and run that is one segment
 * push and one `write` at the next flush, however many frames the run holds: ordering with every
 * other frame a member gets is kept.
 */
import { decimalHeaderBytes, writeDecimalHeader } from '../framing/decimal-encoder.js';
import { FAN_OUT_SLAB_BYTES } from '../limits.js';

/** What fan-out needs of a connection (`Connection.sendEncoded`). */
export interface FanOutTarget {
  /** Queues already-encoded frames (shared, never rewritten); false when not live or over its limit. */
  sendEncoded(frames: Buffer, frameCount: number): boolean;
}

export class FanOut {
  readonly #resolve: (channel: number) => FanOutTarget | undefined;
  readonly #slabBytes: number;
  #slab: Buffer;
  #used = 0;
  /** The open run: whose members get it (null: no run open), minus which channel, from where. */
  #members: ReadonlySet<number> | null = null;
  #except = 0;
  #start = 0;
  /** Frames in the open run (for the members' frame counters). */
  #runFrames = 0;
  #scheduled = false;

  /**
   * @param resolve the live connection behind a channel handle.
   * @param slabBytes slab size (default `FAN_OUT_SLAB_BYTES`); frames above a quarter of it get a
   *   Buffer of their own.
   */
  constructor(resolve: (channel: number) => FanOutTarget | undefined, slabBytes = FAN_OUT_SLAB_BYTES) {
    this.#resolve = resolve;
    this.#slabBytes = slabBytes;
    this.#slab = Buffer.allocUnsafeSlow(slabBytes);
  }

  /**
   * Stages the frame `src[start, end)` for every channel of `members` except `except` (0: none)
   * and returns how many members it is for. `members` must be a live set of live channels
   * (`GroupIndex.members`): it is read again when the run is delivered, so callers flush before
   * they change it.
   */
  send(members: ReadonlySet<number>, except: number, src: Uint8Array, start: number, end: number): number {
    const count = members.size - (except !== 0 && members.has(except) ? 1 : 0);
    if (count === 0) return 0;
    if (this.#members !== members || this.#except !== except) this.flush();
    const len = end - start;
    const need = decimalHeaderBytes(len) + len;
    if (need > this.#slabBytes / 4) {
      const frame = Buffer.allocUnsafe(need);
      frame.set(src.subarray(start, end), writeDecimalHeader(frame, 0, len));
      this.flush();
      this.#deliver(members, except, frame, 1);
      return count;
    }
    if (this.#used + need > this.#slabBytes) {
      this.flush();
      // The old slab stays referenced by the sockets it was handed to until they have written it.
      this.#slab = Buffer.allocUnsafeSlow(this.#slabBytes);
      this.#used = 0;
    }
    if (this.#members === null) {
      this.#members = members;
      this.#except = except;
      this.#start = this.#used;
      this.#runFrames = 0;
    }
    const slab = this.#slab;
    slab.set(src.subarray(start, end), writeDecimalHeader(slab, this.#used, len));
    this.#used += need;
    this.#runFrames++;
    if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(flushFanOut, this);
    }
    return count;
  }

  /** Delivers the open run, if any, to its members' outbound batches. */
  flush(): void {
    const members = this.#members;
    if (members === null) return;
    this.#members = null;
    this.#deliver(members, this.#except, this.#slab.subarray(this.#start, this.#used), this.#runFrames);
  }

  /** Drops the open run without delivering it (shutdown). */
  discard(): void {
    this.#members = null;
  }

  /** End of tick. */
  onTick(): void {
    this.#scheduled = false;
    this.flush();
  }

  #deliver(members: ReadonlySet<number>, except: number, frames: Buffer, frameCount: number): void {
    // A member over its outbound limit is closed from inside sendEncoded, which removes it from
    // `members` during this loop: Set iteration tolerates deletion.
    for (const channel of members) {
      if (channel !== except) this.#resolve(channel)?.sendEncoded(frames, frameCount);
    }
  }
}

function flushFanOut(fanOut: FanOut): void {
  fanOut.onTick();
}
