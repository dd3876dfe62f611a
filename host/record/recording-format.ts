/**
 * The `broker serve --record` file (docs/testkit.md, "Record and replay"): JSON Lines, a `header`
 * line first, then one line per event the plugin saw (`connect`, `msg`, `broken`, `timer`) and one
 * per host call it made (`call`, the test kit's `HostCall` shape, host/testkit/host-call.ts, with
 * payloads in base64), in the order they happened; `truncated` last when `--record-max-bytes` was
 * reached. Payloads are base64 (`data`, `payload`); with `--record-omit-payloads` only their sizes
 * (`bytes`) are kept.
 */
import type { CloseReason, PeerInfo } from '../plugin/world.js';

/** `format` of the header line. */
export const RECORDING_FORMAT = 'plugbroker-recording';
/** `version` of the header line this broker writes and reads. */
export const RECORDING_VERSION = 1;

/** The first line. */
export interface RecordingHeader {
  readonly t: 'header';
  readonly format: typeof RECORDING_FORMAT;
  readonly version: number;
  /** The plugin's world, with the WIT package: `plugbroker:plugin/timed-plugin@0.2.0`. */
  readonly world: string;
  /** The plugin's file name and SHA-256, for the reader. */
  readonly plugin: string;
  readonly sha256: string;
  readonly isolation: 'inline' | 'worker';
  /** Wall clock at the start, ms since the epoch; every `ms` below is relative to it. */
  readonly startMs: number;
  readonly omitPayloads: boolean;
}

/** An event the plugin saw. `ms`: since `startMs`. */
export type RecordedEvent =
  | { readonly t: 'connect'; readonly ms: number; readonly ch: number; readonly peer: PeerInfo }
  | { readonly t: 'msg'; readonly ms: number; readonly ch: number; readonly data?: string; readonly bytes: number }
  | { readonly t: 'broken'; readonly ms: number; readonly ch: number; readonly reason: CloseReason }
  | { readonly t: 'timer'; readonly ms: number; readonly token: string };

/** A host call, as `HostCall` with payloads as base64 (or only `bytes`). */
export type RecordedCall = { readonly t: 'call'; readonly call: string; readonly payload?: string; readonly bytes?: number } & Record<string, unknown>;

/** The last line, when the size bound was reached. */
export interface RecordingTruncated {
  readonly t: 'truncated';
  readonly ms: number;
  /** Bytes written before it. */
  readonly bytes: number;
}

export type RecordingLine = RecordingHeader | RecordedEvent | RecordedCall | RecordingTruncated;
