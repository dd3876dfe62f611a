import { describe, expect, it } from 'vitest';
import { reconnectDelayMs } from '../../../host/cluster/nats-bus.js';
import { CLUSTER_RECONNECT_BASE_MS, CLUSTER_RECONNECT_MAX_MS } from '../../../host/limits.js';

describe('reconnectDelayMs', () => {
  it('doubles from the base to the cap, with a jitter in [½, 1] of the ceiling', () => {
    expect(reconnectDelayMs(0, 0)).toBe(CLUSTER_RECONNECT_BASE_MS / 2);
    expect(reconnectDelayMs(0, 0.999_999)).toBe(CLUSTER_RECONNECT_BASE_MS);
    expect(reconnectDelayMs(1, 0.999_999)).toBe(CLUSTER_RECONNECT_BASE_MS * 2);
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(CLUSTER_RECONNECT_MAX_MS, CLUSTER_RECONNECT_BASE_MS * 2 ** attempt);
      for (const r of [0, 0.25, 0.5, 0.75, 0.999]) {
        const d = reconnectDelayMs(attempt, r);
        expect(d).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
        expect(d).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('stays capped and finite however long the outage lasts (it never gives up) (#12)', () => {
    for (const attempt of [30, 100, 10_000, Number.MAX_SAFE_INTEGER]) {
      const d = reconnectDelayMs(attempt, 0.5);
      expect(Number.isFinite(d)).toBe(true);
      expect(d).toBeLessThanOrEqual(CLUSTER_RECONNECT_MAX_MS);
      expect(d).toBeGreaterThanOrEqual(CLUSTER_RECONNECT_MAX_MS / 2);
    }
  });
});
