/**
 * A coarse clock for per-frame bookkeeping. `Date.now()` costs ≈ 25 ns; reading a number costs
 * nothing. Connections refresh it once per read chunk and the heartbeat sweeper once per tick, so a
 * frame's timestamp is at most one chunk old.
 */
export const coarseClock = { nowMs: Date.now() };

/** Refreshes the coarse clock; returns the new time. */
export function tickClock(): number {
  return (coarseClock.nowMs = Date.now());
}
