/**
 * The shapes the test kit records: every host call a plugin makes (`HostCall`), and every failed
 * plugin call (`TrapReport`). `broker serve --record` writes the same host-call shape, so that a
 * replay compares like with like (docs/testkit.md, "Recording format").
 */
import type { PluginLogLevel } from '../plugin/world.js';

/** One host call of the plugin, with its arguments and what the host answered. */
export type HostCall =
  | { readonly call: 'channel-send'; readonly channel: number; readonly payload: Buffer; readonly result: boolean }
  | { readonly call: 'channel-close'; readonly channel: number }
  | { readonly call: 'channel-authenticate'; readonly channel: number; readonly result: boolean }
  | { readonly call: 'channel-set-data'; readonly channel: number; readonly payload: Buffer; readonly result: boolean }
  | { readonly call: 'channel-get-data'; readonly channel: number; readonly payload: Buffer }
  | { readonly call: 'log'; readonly level: PluginLogLevel; readonly message: string }
  | { readonly call: 'group-join'; readonly group: string; readonly channel: number; readonly result: boolean }
  | { readonly call: 'group-leave'; readonly group: string; readonly channel: number; readonly result: boolean }
  | { readonly call: 'group-send'; readonly group: string; readonly payload: Buffer; readonly except: number; readonly result: number }
  | { readonly call: 'timer-set'; readonly token: string; readonly delayMs: number; readonly repeat: boolean; readonly result: boolean }
  | { readonly call: 'timer-cancel'; readonly token: string; readonly result: boolean }
  | { readonly call: 'upstream-open'; readonly service: string; readonly key: string; readonly result: number };

/** A plugin call that failed (trap, fuel, bad pointer), with the export that was running. */
export interface TrapReport {
  /** WIT name of the export: `handle-msg`, `handle-connect`, … */
  readonly export: string;
  /** The channel the call was about (0: none). */
  readonly channel: number;
  readonly code: string;
  readonly message: string;
}
