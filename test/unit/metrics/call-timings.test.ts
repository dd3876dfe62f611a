import { describe, expect, it } from 'vitest';
import { CallTimings, quantile } from '../../../host/metrics/call-timings.js';

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

  it('hands every timed call to its observer with the export name', () => {
    const t = new CallTimings(1, 4);
    const seen: [string, number][] = [];
    t.observe((e, s) => seen.push([e, s]));
    t.record('handle-connect', 0.5);
    t.observe(undefined);
    t.record('handle-msg', 0.25);
    expect(seen).toEqual([['handle-connect', 0.5]]);
  });
});

describe('quantile', () => {
  it('is the nearest rank', () => {
    const v = Float64Array.from([1, 2, 3, 4]);
    expect([quantile(v, 0.5), quantile(v, 0.99), quantile(v, 0)]).toEqual([2, 4, 1]);
  });
});
