/** Client heartbeats with fake timers and no socket (client-sdk-ts/src/heartbeat.ts). */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Heartbeat } from '../../../client-sdk-ts/src/heartbeat.js';

function target() {
  return { sendHeartbeat: vi.fn(), onIdleTimeout: vi.fn() };
}

describe('client Heartbeat', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('sends a heartbeat after pingIntervalMs of silence from the broker, then once per interval', () => {
    const t = target();
    const hb = new Heartbeat(t, { pingIntervalMs: 1000, idleTimeoutMs: 0 });
    hb.start();
    vi.advanceTimersByTime(999);
    expect(t.sendHeartbeat).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(t.sendHeartbeat).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1000);
    expect(t.sendHeartbeat).toHaveBeenCalledTimes(2);
    hb.stop();
  });

  it('does not send while the broker keeps talking', () => {
    const t = target();
    const hb = new Heartbeat(t, { pingIntervalMs: 1000, idleTimeoutMs: 3000 });
    hb.start();
    for (let i = 0; i < 20; i++) {
      vi.advanceTimersByTime(500);
      hb.seen();
    }
    expect(t.sendHeartbeat).not.toHaveBeenCalled();
    expect(t.onIdleTimeout).not.toHaveBeenCalled();
    hb.stop();
  });

  it('gives the connection up after idleTimeoutMs without anything from the broker, pinging before', () => {
    const t = target();
    const hb = new Heartbeat(t, { pingIntervalMs: 1000, idleTimeoutMs: 3000 });
    hb.start();
    vi.advanceTimersByTime(2999);
    expect(t.sendHeartbeat).toHaveBeenCalledTimes(2);
    expect(t.onIdleTimeout).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(t.onIdleTimeout).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(t.onIdleTimeout).toHaveBeenCalledTimes(1);
  });

  it('an answer to a heartbeat restarts the idle clock', () => {
    const t = target();
    const hb = new Heartbeat(t, { pingIntervalMs: 1000, idleTimeoutMs: 3000 });
    hb.start();
    vi.advanceTimersByTime(1000);
    hb.seen(); // the broker answered
    vi.advanceTimersByTime(2999);
    expect(t.onIdleTimeout).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(t.onIdleTimeout).toHaveBeenCalledTimes(1);
  });

  it('does nothing after stop() and arms nothing with both intervals 0', () => {
    const t = target();
    const hb = new Heartbeat(t, { pingIntervalMs: 1000, idleTimeoutMs: 3000 });
    hb.start();
    hb.stop();
    const off = new Heartbeat(t, { pingIntervalMs: 0, idleTimeoutMs: 0 });
    off.start();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(t.sendHeartbeat).not.toHaveBeenCalled();
    expect(t.onIdleTimeout).not.toHaveBeenCalled();
  });
});
