// `timers`: many named timers per plugin, delivered to `Plugin.onTimer(token)`.

import { timerCancel, timerSet } from "./abi/imports";

/**
 * Timers (WIT interface `timers`). A timer is named by a `u64` token you choose; `onTimer(token)`
 * of your `Plugin` is called when it is due, never during another call. Setting a token that is
 * armed re-arms it. A plugin that uses timers re-exports `abi/timer-exports` beside the usual
 * exports, or `set` returns false:
 *
 *   export * from "<path>/plugin-sdk-as/assembly/abi/exports";
 *   export * from "<path>/plugin-sdk-as/assembly/abi/timer-exports";
 *
 * Timers belong to the instance: after a trap the fresh instance starts with none (arm them again
 * in `start`). At most 100 000 may be armed at once.
 */
export namespace timers {
  /** Calls `onTimer(token)` once, after `delayMs`. @returns false when it cannot be armed. */
  export function once(token: u64, delayMs: u32): bool {
    return timerSet(token, delayMs, 0) != 0;
  }

  /** Calls `onTimer(token)` every `intervalMs` (at least 1) until cancelled. @returns as `once`. */
  export function every(token: u64, intervalMs: u32): bool {
    return timerSet(token, intervalMs, 1) != 0;
  }

  /** Disarms `token`. @returns false when it was not armed. */
  export function cancel(token: u64): bool {
    return timerCancel(token) != 0;
  }
}
