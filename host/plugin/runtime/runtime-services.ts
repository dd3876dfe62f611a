/**
 * `RuntimeServices`: what a plugin runtime needs from the I/O thread besides the WIT interfaces
 * (`HostImports`). Inline isolation only resets per-instance state; worker isolation also seeds its
 * group mirror, hands out reserved upstream handles and opens upstreams under them.
 */
import type { ChannelDataStore } from '../../host-api/channel-data.js';
import type { RemoteSizeFeed } from '../../cluster/cluster.js';
import type { Router } from '../../routing/router.js';
import type { TimerTable } from '../../routing/timers.js';
import type { UpstreamScope } from '../../routing/upstreams.js';

export interface RuntimeServices {
  /** A fresh instance is starting: the previous instance's timers and upstream channels go with it. */
  resetInstanceState(): void;
  /** Every non-empty group and its members: seeds a fresh worker's membership mirror. */
  groupMemberships(): Iterable<readonly [string, ReadonlySet<number>]>;
  /** Every channel with data and its data (`channel-set-data`): seeds a fresh worker's data mirror. */
  channelData(): Iterable<readonly [number, Uint8Array]>;
  /** The configured upstream service names (a worker refuses others itself). */
  readonly upstreamServices: readonly string[];
  /** A channel handle set aside for a worker's `upstream-open`. */
  reserveUpstreamHandle(): number;
  /** Gives back a reserved handle the worker never used. */
  releaseUpstreamHandle(handle: number): void;
  /** The I/O-thread half of a worker's `upstream-open` under a reserved handle; false when it could not open (the handle is released). */
  openUpstreamAs(service: string, key: string, handle: number): boolean;
  /** The I/O-thread half of a worker's `timer-set`: arms `token` in the runtime's timers, its firings tagged `arm`. */
  armTimer(token: bigint, delayMs: number, repeat: boolean, arm: number): boolean;
  /** The I/O-thread half of a worker's `timer-cancel`. */
  cancelTimer(token: bigint): boolean;
  /** Bytes queued for `channel`'s peer and not yet taken by the kernel (0 when it is not open). */
  outboundBytes(channel: number): number;
  /** A worker's `channel-send` found `channel`'s outbound queue full: close it `slow-consumer`, as inline. */
  overflow(channel: number): void;
  /**
   * With a cluster (#12): remote group sizes for a worker's mirror, so that its `group-size` and
   * `group-send` count the other nodes' members as inline does. Absent without a cluster.
   */
  openRemoteSizeFeed?(): RemoteSizeFeed;
}

/** What the services of one runtime are made of. */
export interface RuntimeServicesDeps {
  readonly router: Router;
  /** The runtime's own timers. */
  readonly timers: TimerTable;
  /** The runtime's own upstream channels. */
  readonly upstreams: UpstreamScope;
  /** The cluster this broker is a node of, if any (#12). */
  readonly cluster?: { openRemoteSizeFeed(): RemoteSizeFeed };
  /** The broker's channel data. */
  readonly channelData: ChannelDataStore;
}

/** Builds the services of one plugin runtime over the broker's router and the runtime's timers and upstream scope. */
export function createRuntimeServices(deps: RuntimeServicesDeps): RuntimeServices {
  const { router, timers, upstreams, cluster, channelData } = deps;
  return {
    openRemoteSizeFeed: cluster === undefined ? undefined : () => cluster.openRemoteSizeFeed(),
    resetInstanceState() {
      timers.clear();
      upstreams.closeAll();
    },
    groupMemberships: () => router.groupMemberships(),
    channelData: () => channelData.entries(),
    upstreamServices: upstreams.services,
    reserveUpstreamHandle: () => upstreams.reserveHandle(),
    releaseUpstreamHandle: (handle) => upstreams.releaseHandle(handle),
    openUpstreamAs: (service, key, handle) => upstreams.open(service, key, handle) !== 0,
    armTimer: (token, delayMs, repeat, arm) => timers.set(token, delayMs, repeat, arm),
    cancelTimer: (token) => timers.cancel(token),
    outboundBytes: (channel) => router.outboundBytes(channel),
    overflow: (channel) => router.overflow(channel),
  };
}
