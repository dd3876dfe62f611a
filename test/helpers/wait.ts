/**
 * The one way tests wait for a condition that has no event of its own (a counter in the broker,
 * a log line, a process gone): poll a cheap, in-memory check until it holds, or fail after a
 * deadline naming what was awaited. Deadlines are generous (this machine is shared and loaded):
 * a wait that succeeds returns as soon as the condition holds, so a long deadline costs nothing.
 */

/** Default deadline of `waitFor`, in ms: far above scheduling noise under load. */
export const WAIT_DEADLINE_MS = 10_000;

/** Options of `waitFor`. */
export interface WaitOpts {
  /** Give up after this many ms. Default `WAIT_DEADLINE_MS`. */
  deadlineMs?: number;
  /** Poll interval in ms. Default 5. */
  intervalMs?: number;
}

/**
 * Resolves once `cond()` is true; rejects with `timed out after N ms waiting for <what>` at the
 * deadline. `what` may be a function, to describe the state at the time of failure.
 */
export async function waitFor(cond: () => boolean, what: string | (() => string), opts: WaitOpts = {}): Promise<void> {
  const deadlineMs = opts.deadlineMs ?? WAIT_DEADLINE_MS;
  const deadline = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() >= deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 5));
  }
}
