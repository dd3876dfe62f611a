// Time, as the broker sees it.

import { nowMs as hostNowMs } from "./abi/imports";

/** Wall-clock milliseconds since the Unix epoch, from the broker (plugins have no other clock). */
export function nowMs(): u64 {
  return hostNowMs();
}
