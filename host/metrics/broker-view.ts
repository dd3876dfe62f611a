/**
 * `BrokerView`: what metrics, the admin API and the dashboard read from a running broker. The
 * broker implements it over its own state; every method is a read at call time (scrape time), and
 * none of them allocates per connection except where it says O(n).
 */
import type { PluginHealth } from '../plugin/runtime/health.js';
import type { CloseReason } from '../plugin/world.js';
import type { CallTimings } from './call-timings.js';
import type { ConnectionCounts, TrafficCounters } from './traffic.js';

/** One node of an upstream service as the balancer sees it now. */
export interface UpstreamNodeState {
  readonly service: string;
  /** `host:port` as configured. */
  readonly node: string;
  /** False while the node is ejected after a failure. */
  readonly up: boolean;
  /** Upstream channels open to it. */
  readonly activeChannels: number;
}

/** An upstream service and its nodes. */
export interface UpstreamServiceState {
  readonly service: string;
  readonly policy: string;
  readonly nodes: readonly UpstreamNodeState[];
}

/** The plugin as it runs now. */
export interface PluginState {
  readonly path: string;
  readonly sha256: string;
  readonly isolation: string;
  readonly health: PluginHealth;
  /** Increases with every new instance (restart or reload). */
  readonly generation: number;
  /** Linear memory of the current instance, bytes. */
  readonly memoryBytes: number;
  /** Fresh instances created after failures since start. */
  readonly restarts: number;
}

export interface BrokerView {
  /** Client connections open now, per transport label. */
  connections(): ConnectionCounts;
  /** Client connections accepted since start. */
  connectionsOpened(): number;
  /** Client connections closed since start, by close reason. */
  connectionsClosed(): Partial<Record<CloseReason, number>>;
  /** Connections refused before reaching the plugin, by reason. */
  connectionsRefused(): Partial<Record<string, number>>;
  /** Frames and bytes of every client connection since start. O(open connections). */
  traffic(): TrafficCounters;
  /** Frames dropped without reaching the plugin, by reason. */
  framesDropped(): Partial<Record<string, number>>;
  /** The plugin, or undefined before it started. */
  plugin(): PluginState | undefined;
  /** Non-empty groups now. */
  groupCount(): number;
  /** Frames queued for group members since start (one per member and group send). */
  groupDeliveries(): number;
  /** Upstream services and the state of their nodes. */
  upstreams(): readonly UpstreamServiceState[];
  /** Sampled plugin call durations. */
  readonly callTimings: CallTimings;
}
