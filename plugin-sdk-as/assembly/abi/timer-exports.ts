// Canonical-ABI entry point of the worlds `timed-plugin` / `stateful-timed-plugin`
// (wit/plugin.wit): `handle-timer`. A plugin that uses timers re-exports this module beside the
// usual one; `handle_timer` is renamed to `handle-timer` by the build (`broker build`).

import { registeredPlugin } from "../plugin";

/** WIT `handle-timer: func(token: u64)` (renamed by the build). */
export function handle_timer(token: u64): void {
  registeredPlugin().onTimer(token);
}
