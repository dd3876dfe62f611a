/**
 * The `timers` interface of `wit/plugin.wit`: checks that the plugin can receive timers and
 * delegates to the plugin's `TimerTable`. No state of its own.
 */
import type { TimerTable } from '../routing/timers.js';

/** `timers` functions. Tokens are u64 (BigInt), delays u32 milliseconds. */
export interface TimersImports {
  /** `timer-set`. */
  timerSet(token: bigint, delayMs: number, repeat: boolean): boolean;
  /** `timer-cancel`. */
  timerCancel(token: bigint): boolean;
  /** Not a WIT function: a fresh instance is starting, so every timer of the previous one goes. */
  reset(): void;
}

/**
 * Builds the `timers` interface over `table`. `timed` is whether the plugin exports `handle-timer`:
 * without it `timer-set` returns false.
 */
export function createTimersImports(table: TimerTable, timed: boolean): TimersImports {
  return {
    timerSet: (token, delayMs, repeat) => timed && table.set(token, delayMs, repeat),
    timerCancel: (token) => table.cancel(token),
    reset: () => table.clear(),
  };
}
