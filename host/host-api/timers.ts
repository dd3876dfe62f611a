/**
 * The `timers` interface of `wit/plugin.wit` (`timer-set`, `timer-cancel`): checks that the plugin
 * can receive timers (it exports `handle-timer`), then delegates to a `TimersTarget`: the plugin's
 * `TimerTable` on the I/O thread, the mirror of armed tokens inside a plugin worker. No state of
 * its own.
 */
import type { TimerTable } from '../routing/timers.js';

/** The `timers` interface. Tokens are u64 (BigInt), delays u32 milliseconds. */
export interface TimersInterface {
  /** `timer-set`. */
  timerSet(token: bigint, delayMs: number, repeat: boolean): boolean;
  /** `timer-cancel`. */
  timerCancel(token: bigint): boolean;
}

/** Where `timers` calls go once their arguments passed the checks. */
export interface TimersTarget {
  /** Arms (or re-arms) `token`; false when the plugin's timer cap is reached. */
  set(token: bigint, delayMs: number, repeat: boolean): boolean;
  /** False when `token` was not armed. */
  cancel(token: bigint): boolean;
}

/** What the `timers` interface checks against. */
export interface TimersLimits {
  /** Whether the plugin exports `handle-timer` (world `timed-plugin`): without it `timer-set` returns false. */
  readonly timed: boolean;
}

/** Builds the `timers` interface over `target`. */
export function createTimersInterface(target: TimersTarget, limits: TimersLimits): TimersInterface {
  const timed = limits.timed;
  return {
    timerSet: (token, delayMs, repeat) => timed && target.set(token, delayMs, repeat),
    timerCancel: (token) => target.cancel(token),
  };
}

/** The I/O thread's `timers` target: the plugin runtime's own `TimerTable`. */
export function tableTimersTarget(table: TimerTable): TimersTarget {
  return {
    set: (token, delayMs, repeat) => table.set(token, delayMs, repeat),
    cancel: (token) => table.cancel(token),
  };
}
