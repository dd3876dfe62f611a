import { describe, expect, it } from 'vitest';
import { CALL_BUCKETS_SECONDS, CallTimings, quantile } from '../../../host/metrics/call-timings.js';

describe('CallTimings', () => {
  it('samples one call in sampleEvery', () => {
    const t = new CallTimings(8, 16);
    const sampled = Array.from({ length: 64 }, () => t.sample()).filter(Boolean).length;
    expect(sampled).toBe(8);
  });

  it('refuses a sampling rate that is not a power of 2', () => {
    expect(() => new CallTimings(10)).toThrow(RangeError);
  });

  it('gives p50/p99 of the samples after a cursor, and null when there are none', () => {
    const t = new CallTimings(1, 1000);
    const cursor = t.written;
    expect(t.quantilesSince(cursor)).toBeNull();
    for (let i = 1; i <= 100; i++) t.record('handle-msg', i / 1e6);
    expect(t.quantilesSince(cursor)).toEqual({ p50: 50e-6, p99: 99e-6, samples: 100 });
    const later = t.written;
    t.record('handle-msg', 1);
    expect(t.quantilesSince(later)).toEqual({ p50: 1, p99: 1, samples: 1 });
  });

  it('keeps only the ring of the most recent samples', () => {
    const t = new CallTimings(1, 4);
    for (let i = 1; i <= 10; i++) t.record('handle-msg', i);
    expect(t.quantilesSince(0)).toEqual({ p50: 8, p99: 10, samples: 4 });
  });

  it('counts every timed call in the histogram buckets of its export, cumulative as Prometheus le buckets are', () => {
    const t = new CallTimings(1, 4);
    t.record('handle-connect', 0.5);
    t.record('handle-msg', 2e-7); // below the first bound
    t.record('handle-msg', 1e-6); // on a bound: counted in it (le)
    t.record('handle-msg', 3e-6);
    t.record('handle-msg', 5); // above every bound: +Inf only
    const msg = t.histogram('handle-msg');
    expect(msg.count).toBe(4);
    expect(msg.sumSeconds).toBeCloseTo(5 + 4.2e-6, 12);
    expect(msg.cumulative[CALL_BUCKETS_SECONDS.indexOf(1e-6)]).toBe(2);
    expect(msg.cumulative[CALL_BUCKETS_SECONDS.indexOf(2.5e-6)]).toBe(2);
    expect(msg.cumulative[CALL_BUCKETS_SECONDS.indexOf(5e-6)]).toBe(3);
    expect(msg.cumulative.at(-1)).toBe(3);
    const connect = t.histogram('handle-connect');
    expect([connect.count, connect.cumulative[CALL_BUCKETS_SECONDS.indexOf(0.1)], connect.cumulative.at(-1)]).toEqual([1, 0, 1]);
    expect(t.histogram('handle-timer')).toEqual({ cumulative: CALL_BUCKETS_SECONDS.map(() => 0), count: 0, sumSeconds: 0 });
  });
});

describe('quantile', () => {
  it('is the nearest rank', () => {
    const v = Float64Array.from([1, 2, 3, 4]);
    expect([quantile(v, 0.5), quantile(v, 0.99), quantile(v, 0)]).toEqual([2, 4, 1]);
  });
});
