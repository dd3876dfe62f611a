import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../host/connection/rate-limiter.js';

describe('RateLimiter', () => {
  it('lets a burst of rate × burst frames through, then refuses', () => {
    const r = new RateLimiter({ rateFrames: 10, rateBytes: 0, rateBurst: 2 }, 0);
    let passed = 0;
    for (let i = 0; i < 50; i++) if (r.take(1, 0)) passed++;
    expect(passed).toBe(20);
  });

  it('refills continuously at the rate', () => {
    const r = new RateLimiter({ rateFrames: 10, rateBytes: 0, rateBurst: 1 }, 0);
    for (let i = 0; i < 10; i++) expect(r.take(1, 0)).toBe(true);
    expect(r.take(1, 0)).toBe(false);
    expect(r.take(1, 99)).toBe(false); // 0.99 of a frame refilled
    expect(r.take(1, 100)).toBe(true);
    expect(r.take(1, 100)).toBe(false);
  });

  it('never holds more than its capacity after a long pause', () => {
    const r = new RateLimiter({ rateFrames: 5, rateBytes: 0, rateBurst: 1 }, 0);
    let passed = 0;
    for (let i = 0; i < 100; i++) if (r.take(1, 1_000_000)) passed++;
    expect(passed).toBe(5);
  });

  it('limits bytes, refusing a frame the bucket cannot cover without taking anything', () => {
    const r = new RateLimiter({ rateFrames: 0, rateBytes: 100, rateBurst: 1 }, 0);
    expect(r.take(60, 0)).toBe(true);
    expect(r.take(60, 0)).toBe(false);
    expect(r.take(40, 0)).toBe(true);
    expect(r.take(1, 0)).toBe(false);
  });

  it('keeps room for at least one frame whatever the burst', () => {
    const r = new RateLimiter({ rateFrames: 1, rateBytes: 0, rateBurst: 0.1 }, 0);
    expect(r.take(1, 0)).toBe(true);
    expect(r.take(1, 0)).toBe(false);
  });

  it('is only needed when a rate is set', () => {
    expect(RateLimiter.enabled({ rateFrames: 0, rateBytes: 0, rateBurst: 2 })).toBe(false);
    expect(RateLimiter.enabled({ rateFrames: 0, rateBytes: 1, rateBurst: 2 })).toBe(true);
  });
});
