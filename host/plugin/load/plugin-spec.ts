/**
 * `PluginSpec`: everything known about a loaded plugin before it runs. Immutable; one spec can be
 * instantiated any number of times (after a trap, in a worker). After proxy-wasm-cpp-host's split of
 * plugin configuration from the running VM.
 */
import type { StringEncoding } from './component-reader.js';

export interface PluginSpec {
  /** Path the component was read from. */
  readonly path: string;
  /** Short name for logs: the file name without `.wasm`. */
  readonly name: string;
  /** SHA-256 of the component file, hex. */
  readonly sha256: string;
  /** Size of the component file in bytes. */
  readonly sizeBytes: number;
  /** The plugin's main core module, compiled. */
  readonly module: WebAssembly.Module;
  /** How strings cross the boundary (from the component's canonical options). */
  readonly stringEncoding: Exclude<StringEncoding, 'latin1+utf16'>;
  /** Whether the module exports `cabi_post_start` (called after `start`'s result is read). */
  readonly hasPostStart: boolean;
  /** Whether the plugin implements world `stateful-plugin` (`snapshot` and `restore`, for hot swap). */
  readonly stateful: boolean;
  /** Whether the plugin exports `handle-timer` (world `timed-plugin`): only then may it arm timers. */
  readonly timed: boolean;
  /** Whether the plugin implements world `filter` (`handle-send`, `handle-group-send`): it may sit in front of another in a chain. */
  readonly filter?: boolean;
  /** Whether the module exports `cabi_post_snapshot`. */
  readonly hasPostSnapshot: boolean;
  /** Most pages of 64 KiB the plugin's memory may grow to (the module's maximum was rewritten to it). */
  readonly maxMemoryPages: number;
  /** Fuel per call (steps; the module carries a fuel counter, see fuel.ts), 0 when none. */
  readonly callFuel: number;
}
