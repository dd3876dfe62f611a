// Canonical-ABI entry points of the world `stateful-plugin` (wit/plugin.wit): `snapshot` and
// `restore`, which let a plugin carry its state across a hot swap. A plugin that wants them
// re-exports this module beside the usual one:
//
//   export * from "<path>/plugin-sdk-as/assembly/abi/exports";
//   export * from "<path>/plugin-sdk-as/assembly/abi/stateful-exports";
//
// and overrides `Plugin.snapshot()` / `Plugin.restore(state)`. Export names need no renaming.

import { liftBytes } from "./canonical";
import { registeredPlugin } from "../plugin";

/** Return area of `snapshot`: `list<u8>` = data pointer, then length. */
const SNAPSHOT_RESULT_AREA: usize = memory.data(8, 4);

/** The snapshot lent to the host, kept reachable until `cabi_post_snapshot`. */
let lentSnapshot: Uint8Array | null = null;

/** WIT `snapshot: func() -> list<u8>`; returns the result-area pointer. */
export function snapshot(): usize {
  let state = registeredPlugin().snapshot();
  lentSnapshot = state;
  store<u32>(SNAPSHOT_RESULT_AREA, <u32>state.dataStart);
  store<u32>(SNAPSHOT_RESULT_AREA, <u32>state.byteLength, 4);
  return SNAPSHOT_RESULT_AREA;
}

/** Post-return of `snapshot`: the host has copied the bytes, let them go. */
export function cabi_post_snapshot(resultPtr: usize): void {
  lentSnapshot = null;
}

/** WIT `restore: func(state: list<u8>)`. The state is lent for the call, like a frame payload. */
export function restore(statePtr: usize, stateLen: usize): void {
  registeredPlugin().restore(liftBytes(statePtr, stateLen));
}
