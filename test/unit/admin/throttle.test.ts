import { describe, expect, it } from 'vitest';
import { RequestThrottle } from '../../../host/admin/throttle.js';

describe('RequestThrottle', () => {
  const policy = { ratePerS: 10, burst: 3, maxWaitMs: 500 };

  it('serves a burst at once, then spaces requests at the rate', () => {
    const t = new RequestThrottle(policy, 0);
    expect([t.acquire(0), t.acquire(0), t.acquire(0)]).toEqual([0, 0, 0]);
    // 10/s: the next turns are 100 ms apart.
    expect(t.acquire(0)).toBe(100);
    expect(t.acquire(0)).toBe(200);
  });

  it('refuses a request whose turn is further than maxWaitMs, without taking a turn', () => {
    const t = new RequestThrottle(policy, 0);
    for (let i = 0; i < 3; i++) t.acquire(0);
    const waits = [];
    for (let i = 0; i < 5; i++) waits.push(t.acquire(0));
    expect(waits).toEqual([100, 200, 300, 400, 500]);
    expect(t.acquire(0)).toBe(-1);
    // The refused request held no turn: once time passes the queue is what it was.
    expect(t.acquire(100)).toBe(500);
  });

  it('refills over time up to the burst', () => {
    const t = new RequestThrottle(policy, 0);
    for (let i = 0; i < 3; i++) t.acquire(0);
    expect(t.acquire(10_000)).toBe(0);
    expect(t.acquire(10_000)).toBe(0);
    expect(t.acquire(10_000)).toBe(0);
    expect(t.acquire(10_000)).toBe(100);
  });
});
