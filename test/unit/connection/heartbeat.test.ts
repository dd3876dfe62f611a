import { describe, expect, it } from 'vitest';
import { sweepHeartbeats, sweepIntervalMs, type HeartbeatPolicy, type HeartbeatTarget } from '../../../host/connection/heartbeat.js';

/** A fake connection that records what the sweep did to it. */
function target(t: Partial<HeartbeatTarget> & { openedMs?: number } = {}): HeartbeatTarget & { pings: number; expired: string | null } {
  return {
    lastFrameMs: 0,
    lastPingMs: 0,
    openedMs: 0,
    authenticated: true,
    pings: 0,
    expired: null,
    sendPing() {
      this.pings++;
    },
    expire(reason) {
      this.expired = reason;
    },
    ...t,
  };
}

const POLICY: HeartbeatPolicy = { pingIntervalMs: 100, idleTimeoutMs: 300, authDeadlineMs: 0 };

describe('sweepHeartbeats', () => {
  it('leaves a connection that spoke recently alone', () => {
    const t = target({ lastFrameMs: 950 });
    sweepHeartbeats([t], 1000, POLICY);
    expect(t.pings).toBe(0);
    expect(t.expired).toBeNull();
  });

  it('pings after pingIntervalMs of silence, then once per interval', () => {
    const t = target({ lastFrameMs: 0, lastPingMs: 0 });
    sweepHeartbeats([t], 100, POLICY);
    expect(t.pings).toBe(1);
    sweepHeartbeats([t], 150, POLICY);
    expect(t.pings).toBe(1);
    sweepHeartbeats([t], 200, POLICY);
    expect(t.pings).toBe(2);
    expect(t.lastPingMs).toBe(200);
  });

  it('expires a connection silent for idleTimeoutMs with heartbeat-timeout', () => {
    const t = target({ lastFrameMs: 0 });
    expect(sweepHeartbeats([t], 300, POLICY)).toBe(1);
    expect(t.expired).toBe('heartbeat-timeout');
    expect(t.pings).toBe(0);
  });

  it('expires an unauthenticated connection at the auth deadline, before anything else', () => {
    const policy = { ...POLICY, authDeadlineMs: 50 };
    const anonymous = target({ authenticated: false, openedMs: 0, lastFrameMs: 49 });
    const trusted = target({ authenticated: true, openedMs: 0, lastFrameMs: 49 });
    sweepHeartbeats([anonymous, trusted], 50, policy);
    expect(anonymous.expired).toBe('auth-timeout');
    expect(trusted.expired).toBeNull();
  });

  it('does nothing for items set to 0', () => {
    const t = target({ authenticated: false, lastFrameMs: 0 });
    sweepHeartbeats([t], 1_000_000, { pingIntervalMs: 0, idleTimeoutMs: 0, authDeadlineMs: 0 });
    expect(t.pings).toBe(0);
    expect(t.expired).toBeNull();
  });
});

describe('sweepIntervalMs', () => {
  it('is a quarter of the shortest enabled interval, between 10 ms and 1 s', () => {
    expect(sweepIntervalMs({ pingIntervalMs: 15_000, idleTimeoutMs: 45_000, authDeadlineMs: 0 })).toBe(1000);
    expect(sweepIntervalMs({ pingIntervalMs: 200, idleTimeoutMs: 1000, authDeadlineMs: 0 })).toBe(50);
    expect(sweepIntervalMs({ pingIntervalMs: 0, idleTimeoutMs: 0, authDeadlineMs: 8 })).toBe(10);
    expect(sweepIntervalMs({ pingIntervalMs: 0, idleTimeoutMs: 0, authDeadlineMs: 0 })).toBe(1000);
  });
});
