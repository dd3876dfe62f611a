/**
 * The one way tests wait (#14). Two shapes, one deadline rule:
 * - `waitFor(cond, what)` polls a cheap check for state that has no event of its own (a counter in
 *   the broker, a log line, a process gone, cross-node state);
 * - `Waiter` is the event-driven form: the owner calls `wake()` on every event (a frame, a close, a
 *   message) and `until(cond, what)` re-checks only then.
 * Both fail after a deadline naming what was awaited. Deadlines are generous (this machine is shared
 * and loaded): a wait that succeeds returns as soon as the condition holds, so a long deadline costs
 * nothing. Tests never sleep and then check.
 */

/** Default deadline of `waitFor` and `Waiter.until`, in ms: far above scheduling noise under load. */
export const WAIT_DEADLINE_MS = 10_000;

/** What was awaited, for the error message: a string, or a function describing the state at failure. */
export type WaitWhat = string | (() => string);

/** Options of `waitFor`. */
export interface WaitOpts {
  /** Give up after this many ms. Default `WAIT_DEADLINE_MS`. */
  deadlineMs?: number;
  /** Poll interval in ms. Default 5. */
  intervalMs?: number;
}

const describe = (what: WaitWhat): string => (typeof what === 'string' ? what : what());

/**
 * Resolves once `cond()` is true (it may be async, e.g. a metrics scrape); rejects with
 * `timed out after N ms waiting for <what>` at the deadline.
 */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: WaitWhat, opts: WaitOpts = {}): Promise<void> {
  const deadlineMs = opts.deadlineMs ?? WAIT_DEADLINE_MS;
  const deadline = Date.now() + deadlineMs;
  while (!(await cond())) {
    if (Date.now() >= deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${describe(what)}`);
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 5));
  }
}

/** Options of `Waiter.until`. */
export interface UntilOpts {
  /** Give up after this many ms. Default `WAIT_DEADLINE_MS`. */
  deadlineMs?: number;
  /**
   * Checked after `cond` on every wake: a string ends the wait at once with
   * `<string> while waiting for <what>` (e.g. the connection closed, so the frames will never come).
   */
  failIf?: () => string | undefined;
  /** Also re-check this often, in ms, for a condition that can change without a wake. Default: only on wakes. */
  pollMs?: number;
}

/**
 * An event-driven wait: the owner calls `wake()` whenever something it records changes, and
 * `until()` re-checks its condition then (no polling unless `pollMs` asks for it).
 */
export class Waiter {
  #waiters = new Set<() => void>();

  /** Re-checks every pending `until()`. */
  wake(): void {
    const w = [...this.#waiters];
    this.#waiters.clear();
    for (const f of w) f();
  }

  /** Resolves once `cond()` holds; rejects on `failIf` or after the deadline, naming `what`. */
  async until(cond: () => boolean, what: WaitWhat, opts: UntilOpts = {}): Promise<void> {
    const deadlineMs = opts.deadlineMs ?? WAIT_DEADLINE_MS;
    const deadline = Date.now() + deadlineMs;
    while (!cond()) {
      const failed = opts.failIf?.();
      if (failed !== undefined) throw new Error(`${failed} while waiting for ${describe(what)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${deadlineMs} ms waiting for ${describe(what)}`);
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(t);
          this.#waiters.delete(done);
          resolve();
        };
        const t = setTimeout(done, opts.pollMs === undefined ? left : Math.min(left, opts.pollMs));
        this.#waiters.add(done);
      });
    }
  }
}

/** Resolves with `promise`, or rejects with `timed out after N ms waiting for <what>` at the deadline. */
export async function withDeadline<T>(promise: Promise<T>, what: WaitWhat, deadlineMs = WAIT_DEADLINE_MS): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`timed out after ${deadlineMs} ms waiting for ${describe(what)}`)), deadlineMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(t);
  }
}
