/**
 * Heartbeats without a timer per connection: each connection keeps the time of its last inbound
 * frame (a field write per frame) and one sweep per tick walks them all (docs/measurements.md, Heartbeats: a
 * last-seen slot costs ≈ 2.6 ns per frame; a per-connection `refresh()` ≈ 60 ns and 256 B).
 *
 * Depends only on `HeartbeatTarget` (the nats.js `PH` pattern), so it is tested with no socket.
 */

/** What the sweep needs from a connection. */
export interface HeartbeatTarget {
  /** When the last inbound frame (of any kind) arrived, ms. */
  readonly lastFrameMs: number;
  /** When the broker last sent this peer a heartbeat, ms. */
  lastPingMs: number;
  /** When the connection was accepted, ms. */
  readonly openedMs: number;
  /** Whether the plugin authenticated it (always true when no auth deadline is set). */
  readonly authenticated: boolean;
  /** Queues a heartbeat frame (`0\n`) for the peer. */
  sendPing(): void;
  /** Closes the connection for `reason`. */
  expire(reason: 'heartbeat-timeout' | 'auth-timeout'): void;
}

/** Timing policy; 0 disables an item. */
export interface HeartbeatPolicy {
  readonly pingIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly authDeadlineMs: number;
}

/**
 * One pass over the connections at time `nowMs`: close the idle and the unauthenticated past
 * their deadlines, ping the silent.
 * @returns how many connections were expired.
 */
export function sweepHeartbeats(targets: Iterable<HeartbeatTarget>, nowMs: number, policy: HeartbeatPolicy): number {
  const { pingIntervalMs, idleTimeoutMs, authDeadlineMs } = policy;
  let expired = 0;
  for (const t of targets) {
    if (authDeadlineMs > 0 && !t.authenticated && nowMs - t.openedMs >= authDeadlineMs) {
      t.expire('auth-timeout');
      expired++;
      continue;
    }
    const silentMs = nowMs - t.lastFrameMs;
    if (idleTimeoutMs > 0 && silentMs >= idleTimeoutMs) {
      t.expire('heartbeat-timeout');
      expired++;
      continue;
    }
    if (pingIntervalMs > 0 && silentMs >= pingIntervalMs && nowMs - t.lastPingMs >= pingIntervalMs) {
      t.lastPingMs = nowMs;
      t.sendPing();
    }
  }
  return expired;
}

/**
 * How often to sweep: a quarter of the shortest enabled interval, between 10 ms and 1 s, so that a
 * deadline is enforced within 25 % of its length (and within 1 s at the defaults).
 */
export function sweepIntervalMs(policy: HeartbeatPolicy): number {
  const enabled = [policy.pingIntervalMs, policy.idleTimeoutMs, policy.authDeadlineMs].filter((v) => v > 0);
  if (enabled.length === 0) return 1000;
  return Math.min(1000, Math.max(10, Math.floor(Math.min(...enabled) / 4)));
}
