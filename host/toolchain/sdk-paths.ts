/**
 * Where the plugin SDKs that ship with plugbroker live (beside `wit/`, in the package root), so that
 * `broker build` can compile a plugin folder that lives anywhere.
 */
import { dirname, join } from 'node:path';
import { findWitDir } from '../plugin/world.js';

/** Root of the plugbroker package (the folder holding `wit/`). */
export function packageRoot(): string {
  return dirname(findWitDir());
}

/** The C SDK: `include/plugbroker.h` and the sources in `src/`. */
export function cSdkDir(): string {
  return join(packageRoot(), 'plugin-sdk-c');
}

/** The Rust SDK crate (`plugbroker`). */
export function rustSdkDir(): string {
  return join(packageRoot(), 'plugin-sdk-rust');
}

/** The AssemblyScript SDK's sources (`index.ts`, `abi/exports.ts`, …): the `plugbroker` package of AS plugins. */
export function asSdkDir(): string {
  return join(packageRoot(), 'plugin-sdk-as', 'assembly');
}
