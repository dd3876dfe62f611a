/**
 * `AdminTarget`: what the admin listener reads from and asks of a running broker. The broker
 * implements it over its own state (broker.ts); the admin server never reaches into the broker
 * otherwise, so it is tested against a real broker and nothing else.
 */
import type { BrokerView } from '../metrics/broker-view.js';
import type { TransportLabel } from '../metrics/transport-label.js';

/** Where the broker is in its life: only `serving` is ready. */
export type BrokerPhase = 'starting' | 'serving' | 'draining' | 'stopping' | 'stopped';

/** A client listener as bound. */
export interface ListenerRecord {
  /** `tcp`, `tls`, `ws` or `wss`. */
  readonly transport: TransportLabel;
  readonly host: string;
  readonly port: number;
}

/** What the admin API filters channels on without building their full record. */
export interface ChannelEntry {
  readonly id: number;
  /** Peer IP address. */
  readonly remoteAddress: string;
  readonly authenticated: boolean;
}

/** One client channel as the admin API shows it. */
export interface ChannelRecord {
  readonly id: number;
  readonly transport: TransportLabel;
  readonly peer: { readonly address: string; readonly port: number };
  /** ISO 8601 time it was accepted. */
  readonly connectedAt: string;
  readonly framesIn: number;
  readonly framesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Groups it is in, sorted. */
  readonly groups: readonly string[];
  readonly authenticated: boolean;
}

/** The outcome of a drain request. */
export interface DrainStarted {
  /** How long open connections may stay before they are closed (`shutdown`). */
  readonly graceMs: number;
  /** Client connections open when the drain started. */
  readonly connections: number;
}

export interface AdminTarget extends BrokerView {
  /** plugbroker's version (package.json). */
  readonly version: string;
  /** When the broker was created, ms since the epoch. */
  readonly startedAtMs: number;
  phase(): BrokerPhase;
  /** The client listeners bound now (none while draining). */
  listeners(): readonly ListenerRecord[];
  /** Live client channels, in the order they were accepted. */
  channelEntries(): Iterable<ChannelEntry>;
  /** The live client channel `id`, if any. */
  channelEntry(id: number): ChannelEntry | undefined;
  /** The full record of a channel from `channelEntries`/`channelEntry`. */
  describeChannel(entry: ChannelEntry): ChannelRecord;
  /** Members of group `name` (channel ids), if it has any. */
  groupMembers(name: string): ReadonlySet<number> | undefined;
  /** Every non-empty group with its members. */
  groupEntries(): Iterable<readonly [string, ReadonlySet<number>]>;
  /**
   * Closes a live client channel with `closed-by-operator` (the plugin gets `handle-broken`).
   * @returns false when there is no such live channel.
   */
  closeChannel(id: number): boolean;
  /**
   * Hot swap, as SIGHUP (`Broker.reloadPlugin`).
   * @throws the plugin load or start error when the new plugin is refused.
   */
  reloadPlugin(path?: string): Promise<string>;
  /**
   * Lame duck: listeners stop accepting, readiness goes 503, open connections stay until `graceMs`
   * passes (or they all closed), then the broker stops (`shutdown`).
   * @throws {AdminRequestError} 409 when the broker is already draining or stopping.
   */
  drain(graceMs: number): DrainStarted;
}
