/** Full-jitter exponential backoff (client-sdk-ts/src/backoff.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffCeilingMs, backoffDelayMs, DEFAULT_BACKOFF } from '../../../client-sdk-ts/src/backoff.js';

describe('backoff', () => {
  it('defaults to 500 ms → 20 s, never giving up', () => {
    expect(DEFAULT_BACKOFF).toEqual({ initialDelayMs: 500, maxDelayMs: 20_000, maxAttempts: Infinity });
  });

  it('doubles the ceiling per retry from initialDelayMs and stops at maxDelayMs', () => {
    const ceilings = Array.from({ length: 9 }, (_, i) => backoffCeilingMs(i, DEFAULT_BACKOFF));
    expect(ceilings).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 20_000, 20_000, 20_000]);
  });

  it('does not overflow after very many retries', () => {
    expect(backoffCeilingMs(5000, DEFAULT_BACKOFF)).toBe(20_000);
    expect(backoffDelayMs(5000, DEFAULT_BACKOFF, () => 0.999)).toBe(19_980);
  });

  it('spans the whole window: 0 for random() = 0, the ceiling for random() → 1', () => {
    expect(backoffDelayMs(3, DEFAULT_BACKOFF, () => 0)).toBe(0);
    expect(backoffDelayMs(3, DEFAULT_BACKOFF, () => 0.9999999)).toBe(4000);
    expect(backoffDelayMs(3, DEFAULT_BACKOFF, () => 0.25)).toBe(1000);
  });

  it('gives a whole number of ms in [0, ceiling] for any retry, policy and random value', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 80 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (retry, initial, extra, r) => {
          const policy = { initialDelayMs: initial, maxDelayMs: initial + extra, maxAttempts: Infinity };
          const d = backoffDelayMs(retry, policy, () => r);
          expect(Number.isInteger(d)).toBe(true);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(backoffCeilingMs(retry, policy));
        },
      ),
    );
  });
});
