/**
 * `TimerTable`: the timers one plugin has armed, by token, behind one Node timer.
 *
 * Why not a Node timer each: Node keeps one list per distinct duration, and a plugin that arms
 * timers of many different delays pays ≈ 4–20 µs per `setTimeout` (measured: 1 000 timers of
 * 1–500 ms took 4–20 ms to arm, and fired that much late). Here a binary min-heap ordered by due
 * time holds the timers, and a single unref'd Node timer is set for the earliest: arming is
 * O(log n), a fraction of a µs. Cancelling and re-arming mark the old entry dead (lazy deletion);
 * the heap is compacted when dead entries outnumber live ones.
 *
 * The table only maps tokens to due times, enforces the cap and calls `fire(token, arm)` when one
 * is due. `arm` is an opaque tag given to `set` and handed back with each firing of that arming:
 * worker isolation numbers its arms so that a firing that crossed a re-arm or a cancel on its way
 * to the worker is recognised as stale. No plugin import: the broker connects `fire` to the
 * runtime's `handle-timer`.
 */
import { MAX_PLUGIN_TIMERS } from '../limits.js';

interface Entry {
  readonly token: bigint;
  dueMs: number;
  /** 0 for a one-shot timer. */
  readonly intervalMs: number;
  /** The caller's tag for this arming, passed back to `fire`. */
  readonly arm: number;
  /** Arming order: ties on `dueMs` fire in the order they were armed. */
  seq: number;
  dead: boolean;
}

export class TimerTable {
  readonly #live = new Map<bigint, Entry>();
  #heap: Entry[] = [];
  readonly #fire: (token: bigint, arm: number) => void;
  readonly #maxTimers: number;
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Due time the Node timer is set for (Infinity: none). */
  #timerDueMs = Infinity;
  #firing = false;

  /**
   * @param fire called with the token and arm tag of each timer that is due (one-shot timers are removed first).
   * @param maxTimers timers that may be armed at once (default `MAX_PLUGIN_TIMERS`).
   */
  constructor(fire: (token: bigint, arm: number) => void, maxTimers = MAX_PLUGIN_TIMERS) {
    this.#fire = fire;
    this.#maxTimers = maxTimers;
  }

  /**
   * Arms `token` to fire after `delayMs`, then every `delayMs` (at least 1) when `repeat`.
   * Re-arms a token that is armed. False when `maxTimers` are armed already. `arm` (default 0) is
   * handed back to `fire` with each firing of this arming.
   */
  set(token: bigint, delayMs: number, repeat: boolean, arm = 0): boolean {
    const existing = this.#live.get(token);
    if (existing !== undefined) existing.dead = true;
    else if (this.#live.size >= this.#maxTimers) return false;
    const intervalMs = repeat ? Math.max(1, delayMs) : 0;
    const entry: Entry = { token, dueMs: Date.now() + (repeat ? intervalMs : delayMs), intervalMs, arm, seq: this.#seq++, dead: false };
    this.#live.set(token, entry);
    this.#push(entry);
    if (existing !== undefined) this.#compactIfSparse();
    if (!this.#firing && entry.dueMs < this.#timerDueMs) this.#schedule();
    return true;
  }

  /** Disarms `token`; false when it was not armed. */
  cancel(token: bigint): boolean {
    const entry = this.#live.get(token);
    if (entry === undefined) return false;
    entry.dead = true;
    this.#live.delete(token);
    this.#compactIfSparse();
    return true;
  }

  /** Disarms every timer (the instance that armed them is gone, or the broker stops). */
  clear(): void {
    this.#live.clear();
    this.#heap = [];
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDueMs = Infinity;
  }

  /** Timers armed now. */
  get size(): number {
    return this.#live.size;
  }

  /** Fires every timer that is due, then sets the Node timer for the next one. */
  #onTimer(): void {
    this.#timer = undefined;
    this.#timerDueMs = Infinity;
    const now = Date.now();
    this.#firing = true;
    try {
      // Only entries due by `now`: a repeating timer goes back with a later due time, so a slow
      // handler cannot make this loop forever.
      while (this.#heap.length > 0 && this.#heap[0].dueMs <= now) {
        const entry = this.#pop();
        if (entry.dead) continue;
        if (entry.intervalMs > 0) {
          // Keep the cadence; skip ticks missed while the loop was busy rather than bunching them.
          entry.dueMs = Math.max(entry.dueMs + entry.intervalMs, now + 1);
          entry.seq = this.#seq++;
          this.#push(entry);
        } else {
          this.#live.delete(entry.token);
        }
        this.#fire(entry.token, entry.arm);
      }
    } finally {
      this.#firing = false;
      this.#schedule();
    }
  }

  #schedule(): void {
    while (this.#heap.length > 0 && this.#heap[0].dead) this.#pop();
    if (this.#heap.length === 0) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#timerDueMs = Infinity;
      return;
    }
    const due = this.#heap[0].dueMs;
    if (this.#timer !== undefined && due === this.#timerDueMs) return;
    clearTimeout(this.#timer);
    this.#timerDueMs = due;
    this.#timer = setTimeout(() => this.#onTimer(), Math.max(0, due - Date.now()));
    // Timers never keep the process alive: the listener does, and stop() clears them.
    this.#timer.unref();
  }

  #compactIfSparse(): void {
    if (this.#heap.length < 64 || this.#heap.length < 2 * this.#live.size) return;
    this.#heap = this.#heap.filter((e) => !e.dead);
    // Re-heapify (Floyd): O(n).
    for (let i = (this.#heap.length >> 1) - 1; i >= 0; i--) this.#down(i);
  }

  #push(entry: Entry): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent])) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): Entry {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      this.#down(0);
    }
    return top;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const entry = heap[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && before(heap[r], heap[l]) ? r : l;
      if (!before(heap[child], entry)) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = entry;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.seq < b.seq);
}
