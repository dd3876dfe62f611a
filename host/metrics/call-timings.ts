/**
 * `CallTimings`: how long plugin calls take, sampled. Timing a call costs two `performance.now()`
 * reads (≈ 2 × 25–40 ns on a quiet machine, up to 300 ns on a loaded VM) against ≈ 120–300 ns for
 * the call itself (echo through the adapter), so only one call in `PLUGIN_CALL_SAMPLE_EVERY` is
 * timed: `sample()` is one counter increment and a mask on the message path, nothing else.
 *
 * Each timed call goes to a ring of the most recent samples, from which the dashboard computes
 * p50/p99 over its last interval, and into plain per-export bucket counters that
 * `plugbroker_plugin_call_duration_seconds` reads at scrape time (its `_count` counts timed calls,
 * not all calls). Why not prom-client's `Histogram.observe()` per timed call: it validates and
 * hashes the labels and looks the bucket up by its string key, 2.3–4 µs here, which at one call in
 * 64 was ≈ 5 % of an s1 echo's CPU per message (bench/admin.js; issue #11 wants ≤ 3 % for all of
 * the admin listener). Recording here is a bucket search over 16 bounds and two array writes.
 */
import { PLUGIN_CALL_RECENT_SAMPLES, PLUGIN_CALL_SAMPLE_EVERY } from '../limits.js';

/** The exports that are timed, as the `export` label names them (WIT names). */
export const TIMED_EXPORTS = ['handle-connect', 'handle-msg', 'handle-broken', 'handle-timer'] as const;
export type TimedExport = (typeof TIMED_EXPORTS)[number];

/**
 * Upper bounds (`le`) of the `plugbroker_plugin_call_duration_seconds` buckets, seconds: a 64 B echo
 * takes ≈ 0.1–0.3 µs inline and a call that talks to many peers milliseconds; the worker budget
 * defaults to 1 s.
 */
export const CALL_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1, 1,
]);

/** Index of each timed export in the counter arrays. */
const EXPORT_INDEX: Readonly<Record<TimedExport, number>> = Object.freeze({ 'handle-connect': 0, 'handle-msg': 1, 'handle-broken': 2, 'handle-timer': 3 });
/** Counters per export: one per bound, then the one above every bound (+Inf only). */
const STRIDE = CALL_BUCKETS_SECONDS.length + 1;

/** The timed calls of one export so far, as a Prometheus histogram reports them. */
export interface CallHistogram {
  /** Timed calls at or below each bound of `CALL_BUCKETS_SECONDS` (cumulative, as `le` buckets are). */
  readonly cumulative: number[];
  /** Timed calls (the `+Inf` bucket). */
  readonly count: number;
  /** Sum of their durations, seconds. */
  readonly sumSeconds: number;
}

export class CallTimings {
  /** Calls counted by `sample()`. */
  #calls = 0;
  readonly #mask: number;
  readonly #recent: Float64Array;
  #written = 0;
  /** Per export: timed calls in each bucket (not cumulative), `STRIDE` counters each. */
  readonly #buckets = new Float64Array(TIMED_EXPORTS.length * STRIDE);
  readonly #sums = new Float64Array(TIMED_EXPORTS.length);

  /**
   * @param sampleEvery time one call in this many (a power of 2; 1 times every call).
   * @param recentSamples how many recent samples the ring keeps.
   * @throws {RangeError} when `sampleEvery` is not a power of 2.
   */
  constructor(sampleEvery = PLUGIN_CALL_SAMPLE_EVERY, recentSamples = PLUGIN_CALL_RECENT_SAMPLES) {
    if (!Number.isInteger(sampleEvery) || sampleEvery < 1 || (sampleEvery & (sampleEvery - 1)) !== 0) {
      throw new RangeError(`sampleEvery must be a power of 2, got ${sampleEvery}`);
    }
    this.#mask = sampleEvery - 1;
    this.#recent = new Float64Array(recentSamples);
  }

  /** Counts a call; true when this one is to be timed. */
  sample(): boolean {
    return (++this.#calls & this.#mask) === 0;
  }

  /** Records a timed call. */
  record(exportName: TimedExport, seconds: number): void {
    this.#recent[this.#written++ % this.#recent.length] = seconds;
    const e = EXPORT_INDEX[exportName];
    let b = 0;
    while (b < CALL_BUCKETS_SECONDS.length && seconds > CALL_BUCKETS_SECONDS[b]) b++;
    this.#buckets[e * STRIDE + b]++;
    this.#sums[e] += seconds;
  }

  /** The histogram of `exportName`'s timed calls since start (read at scrape time). */
  histogram(exportName: TimedExport): CallHistogram {
    const at = EXPORT_INDEX[exportName] * STRIDE;
    const cumulative: number[] = [];
    let n = 0;
    for (let b = 0; b < CALL_BUCKETS_SECONDS.length; b++) cumulative.push((n += this.#buckets[at + b]));
    return { cumulative, count: n + this.#buckets[at + STRIDE - 1], sumSeconds: this.#sums[EXPORT_INDEX[exportName]] };
  }

  /** Samples recorded so far (a cursor for `quantilesSince`). */
  get written(): number {
    return this.#written;
  }

  /**
   * p50 and p99 of the samples recorded after cursor `since` (`written` at an earlier time), in
   * seconds; null when there are none. At most the ring's size of the most recent ones count.
   */
  quantilesSince(since: number): { p50: number; p99: number; samples: number } | null {
    const n = Math.min(this.#written - since, this.#recent.length);
    if (n <= 0) return null;
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = this.#recent[(this.#written - n + i) % this.#recent.length];
    values.sort();
    return { p50: quantile(values, 0.5), p99: quantile(values, 0.99), samples: n };
  }
}

/** The `q` quantile of sorted `values` (nearest rank). */
export function quantile(values: Float64Array, q: number): number {
  if (values.length === 0) return NaN;
  const rank = Math.ceil(q * values.length) - 1;
  return values[Math.min(values.length - 1, Math.max(0, rank))];
}
