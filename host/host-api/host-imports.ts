/**
 * `HostImports`: every interface of `wit/plugin.wit` a plugin instance may call, all of them
 * required (a plugin that imports none of `groups` simply never calls it). Only WIT functions live
 * here; what a plugin worker needs from the I/O thread besides is `RuntimeServices`
 * (plugin/runtime/runtime-services.ts).
 */
import type { Logger } from 'pino';
import type { Router } from '../routing/router.js';
import type { TimerTable } from '../routing/timers.js';
import type { UpstreamScope } from '../routing/upstreams.js';
import type { ChainInterface } from './chain.js';
import type { ChannelDataStore } from './channel-data.js';
import { createGroupsInterface, routerGroupsTarget, type GroupsInterface } from './groups.js';
import { createHostInterface, routerHostTarget, type HostInterface } from './host.js';
import { createTimersInterface, tableTimersTarget, type TimersInterface } from './timers.js';
import { createUpstreamsInterface, scopeUpstreamsTarget, type UpstreamsInterface } from './upstreams.js';

/** What a plugin instance may call, by WIT interface, with arguments lifted out of its linear memory. */
export interface HostImports {
  /** Interface `host`. */
  readonly host: HostInterface;
  /** Interface `groups`. */
  readonly groups: GroupsInterface;
  /** Interface `timers`. */
  readonly timers: TimersInterface;
  /** Interface `upstreams`. */
  readonly upstreams: UpstreamsInterface;
  /** Interface `chain` (world `filter`); absent: `chain-forward` passes nothing (returns false). */
  readonly chain?: ChainInterface;
}

/** What the I/O thread's host imports of one plugin runtime delegate to. */
export interface BrokerHostDeps {
  readonly router: Router;
  /** The plugin's logger (lines tagged with its name). */
  readonly logger: Logger;
  /** The runtime's own timers. */
  readonly timers: TimerTable;
  /** The runtime's own upstream channels. */
  readonly upstreams: UpstreamScope;
  /** Largest frame body the plugin may send, in bytes. */
  readonly maxFrameBytes: number;
  /** Whether the plugin exports `handle-timer`. */
  readonly timed: boolean;
  /** The broker's channel data (it outlives the runtime: a hot swap hands it to the next). */
  readonly channelData: ChannelDataStore;
  /** Largest channel data per channel, in bytes (`--channel-data-max-bytes`). */
  readonly maxChannelDataBytes: number;
}

/** Builds the host imports of one plugin runtime on the I/O thread. */
export function createBrokerHostImports(deps: BrokerHostDeps): HostImports {
  const limits = { maxFrameBytes: deps.maxFrameBytes, maxChannelDataBytes: deps.maxChannelDataBytes };
  return {
    host: createHostInterface(routerHostTarget(deps.router, deps.logger, deps.channelData), limits),
    groups: createGroupsInterface(routerGroupsTarget(deps.router), limits),
    timers: createTimersInterface(tableTimersTarget(deps.timers), { timed: deps.timed }),
    upstreams: createUpstreamsInterface(scopeUpstreamsTarget(deps.upstreams)),
  };
}
