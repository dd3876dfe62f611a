/**
 * `PluginChain`: several plugins in front of one another (`--plugin a.wasm --plugin b.wasm
 * --plugin app.wasm`, issue #13 §3). Every plugin but the last is a filter (world `filter`); the
 * last is the application. Each is its own `PluginRuntime` with its own failure policy, health,
 * timers, upstream channels and channel data; the chain only routes between them, by the rules
 * of world `filter` in wit/plugin.wit:
 *
 * - in: a client frame goes to link 0; `chain-forward` from link i goes to link i + 1;
 * - out: `channel-send` / `group-send` from link i > 0 go to link i - 1's `handle-send` /
 *   `handle-group-send`; from link 0 to the peers (the router);
 * - `handle-connect` in order (a refusal stops it), `handle-broken` in reverse order.
 *
 * Calls from one link to another never nest: they are queued (payload copied) and delivered one
 * after the other once the call that made them has returned (a FIFO "pump"), so no instance is
 * re-entered and every link sees its frames in the order they were made. Each queued frame
 * counts the plugin calls it went through; at `MAX_CHAIN_PASSES` it is dropped and logged
 * (`PB_ERR_CHAIN_LOOP`).
 *
 * Filters run inline (on the I/O thread) whatever the isolation: the worker protocol has no
 * filter calls yet (docs/plugin-chains.md). The application runs in the broker's isolation mode.
 */
import type { Logger } from 'pino';
import { createChainInterface } from '../../host-api/chain.js';
import { ChannelDataStore } from '../../host-api/channel-data.js';
import { isValidGroupName } from '../../host-api/groups.js';
import type { HostImports } from '../../host-api/host-imports.js';
import { MAX_CHAIN_PASSES } from '../../limits.js';
import type { PluginHealth } from '../runtime/health.js';
import type { PluginRuntime, RuntimeOwner } from '../runtime/runtime.js';
import type { CloseReason, PeerInfo } from '../world.js';

/** What a filter runtime offers besides `PluginRuntime` (InlineRuntime has both). */
export interface FilterCalls {
  handleSend(channel: number, payload: Uint8Array): void;
  handleGroupSend(group: string, payload: Uint8Array, except: number): void;
}

/** A link of the chain: a runtime, filters with their filter calls. */
export type ChainLink = PluginRuntime & Partial<FilterCalls>;

/** What the chain needs from the broker. */
export interface ChainDeps {
  /** Whether `channel` is a connection that is open (not closing, not ended). */
  isLive(channel: number): boolean;
  /** Closes `channel` for `reason`; the broker's close handling calls `handleBroken` for it. */
  close(channel: number, reason: CloseReason): void;
  /** Members of `group` (as `group-size` answers), for a group send made behind a filter. */
  groupSize(group: string): number;
  /** The broker's own runtime owner: live channels, restarts, giving up. */
  readonly owner: RuntimeOwner;
  /** Counts a plugin failure about a channel (the broker's `pluginTraps`). */
  countFailure(): void;
  readonly log: Logger;
  /** Largest frame body, in bytes. */
  readonly maxFrameBytes: number;
}

/** One queued call from one link to another. */
type Delivery =
  | { kind: 'msg' | 'send'; link: number; channel: number; payload: Uint8Array; passes: number }
  | { kind: 'group'; link: number; group: string; payload: Uint8Array; except: number; passes: number }
  | { kind: 'broken'; link: number; channel: number; reason: number; passes: 0 };

export class PluginChain {
  readonly #deps: ChainDeps;
  readonly #links: ChainLink[];
  /** Channel data of each filter (the application uses the broker's store). */
  readonly #data: ChannelDataStore[];
  /** Per link: channels whose call failed there (that instance is gone: no handle-broken for them). */
  readonly #failed: Set<number>[];
  /** Client channels of the chain → how many links got `handle-connect` for it (links 0..n-1). */
  readonly #clients = new Map<number, number>();
  /** Upstream channels opened by a filter → the filter's index (others belong to the application). */
  readonly #upstreamLink = new Map<number, number>();
  /** Channels whose loop was logged already. */
  readonly #loopLogged = new Set<number>();
  /** Passes of the last frame given to a link in worker isolation, per channel (its effects come back later). */
  readonly #workerPasses = new Map<number, number>();
  readonly #queue: Delivery[] = [];
  #pumping = false;
  /** A pump is due at the end of the current stack (see `#fromHost`). */
  #scheduled = false;
  /** The delivery running now (its link's host calls count its passes). */
  #current: Delivery | undefined;

  /** A chain of `length` links (at least 2); fill it with `setLink` before any call. */
  constructor(length: number, deps: ChainDeps) {
    this.#deps = deps;
    this.#links = new Array<ChainLink>(length);
    this.#data = Array.from({ length: length - 1 }, () => new ChannelDataStore());
    this.#failed = Array.from({ length }, () => new Set<number>());
  }

  /** Number of links. */
  get length(): number {
    return this.#links.length;
  }

  /** The runtime of link `index`. */
  link(index: number): ChainLink {
    return this.#links[index];
  }

  /** Every runtime, first filter first. */
  get links(): readonly ChainLink[] {
    return this.#links;
  }

  /** Puts `runtime` at `index` (also to replace the application after a hot swap). */
  setLink(index: number, runtime: ChainLink): void {
    this.#links[index] = runtime;
  }

  /** The channel-data store of filter `index` (the application's is the broker's). */
  dataOf(index: number): ChannelDataStore {
    return this.#data[index];
  }

  /** The worst health of the links: `failed` > `restarting` > `ok`. */
  get health(): PluginHealth {
    let worst: PluginHealth = 'ok';
    for (const link of this.#links) {
      if (link.health === 'failed') return 'failed';
      if (link.health !== 'ok') worst = link.health;
    }
    return worst;
  }

  /**
   * Wraps the I/O thread's host imports of link `index` so that what it sends towards a client goes
   * to the link before it, and `chain-forward` to the link after it.
   */
  importsFor(index: number, base: HostImports): HostImports {
    const last = this.#links.length - 1;
    const deps = this.#deps;
    const maxFrameBytes = deps.maxFrameBytes;
    const isUpstream = (channel: number): boolean => !this.#clients.has(channel);
    const host =
      index === 0
        ? base.host
        : {
            ...base.host,
            channelSend: (channel: number, src: Uint8Array, start: number, end: number): boolean => {
              if (isUpstream(channel)) return base.host.channelSend(channel, src, start, end);
              if (end - start > maxFrameBytes || !deps.isLive(channel)) return false;
              this.#enqueueFrame('send', index - 1, channel, src.slice(start, end), this.#passesOf(index, channel));
              return true;
            },
          };
    const groups =
      index === 0
        ? base.groups
        : {
            ...base.groups,
            groupSend: (group: string, src: Uint8Array, start: number, end: number, except: number): number => {
              if (end - start > maxFrameBytes || !isValidGroupName(group)) return 0;
              const passes = this.#current?.link === index ? this.#current.passes + 1 : 1;
              this.#fromHost({ kind: 'group', link: index - 1, group, payload: src.slice(start, end), except, passes });
              return deps.groupSize(group);
            },
          };
    const upstreams =
      index === last
        ? base.upstreams
        : {
            upstreamOpen: (service: string, key: string): number => {
              const channel = base.upstreams.upstreamOpen(service, key);
              if (channel !== 0) this.#upstreamLink.set(channel, index);
              return channel;
            },
          };
    const chain = createChainInterface(
      {
        forward: (channel, src, start, end) => {
          if (index === last || isUpstream(channel) || !deps.isLive(channel)) return false;
          this.#enqueueFrame('msg', index + 1, channel, src.slice(start, end), this.#passesOf(index, channel));
          return true;
        },
      },
      { maxFrameBytes },
    );
    return { ...base, host, groups, upstreams, chain };
  }

  /** The owner link `index`'s runtime reports to. */
  ownerFor(index: number): RuntimeOwner {
    const deps = this.#deps;
    return {
      onChannelFailed: (channel) => {
        // That instance is gone: the other links get handle-broken(plugin-failed).
        deps.countFailure();
        this.#failed[index].add(channel);
        deps.close(channel, 'plugin-failed');
      },
      onConnectDecided: (channel, accepted) => {
        if (!accepted) deps.close(channel, 'refused-by-plugin');
      },
      liveChannels: () => this.#liveClientChannels(),
      onInstanceReplaced: () => deps.owner.onInstanceReplaced(),
      onPluginFailed: (err) => deps.owner.onPluginFailed(err),
    };
  }

  *#liveClientChannels(): Iterable<readonly [number, PeerInfo]> {
    for (const entry of this.#deps.owner.liveChannels()) if (this.#clients.has(entry[0])) yield entry;
  }

  /**
   * `handle-connect` through the chain in order. Returns false when a link refused (or failed) at
   * once, undefined when a link in worker isolation answers later, else true.
   */
  handleConnect(channel: number, peer: PeerInfo): boolean | undefined {
    this.#clients.set(channel, 0);
    let result: boolean | undefined = true;
    for (let i = 0; i < this.#links.length; i++) {
      const link = this.#links[i];
      const generation = link.generation;
      this.#clients.set(channel, i + 1);
      const ok = link.handleConnect(channel, peer);
      this.#pump();
      if (link.generation !== generation || ok === false || !this.#deps.isLive(channel)) {
        result = false;
        break;
      }
      if (ok === undefined) result = undefined;
    }
    return result;
  }

  /** A frame from the peer of `channel`: to link 0, or to the link that opened it (an upstream). */
  handleMsg(channel: number, payload: Uint8Array): void {
    const link = this.#clients.has(channel) ? 0 : (this.#upstreamLink.get(channel) ?? this.#links.length - 1);
    if (this.#pumping) {
      this.#push({ kind: 'msg', link, channel, payload: payload.slice(), passes: 1 });
      return;
    }
    // The hot path: no copy, straight to the link, then whatever it queued.
    this.#pump({ kind: 'msg', link, channel, payload, passes: 1 });
  }

  /** `channel` ended: `handle-broken` to every link that knows it, last link first. */
  handleBroken(channel: number, reasonCode: number): void {
    const seen = this.#clients.get(channel);
    if (seen === undefined) {
      const link = this.#upstreamLink.get(channel) ?? this.#links.length - 1;
      this.#upstreamLink.delete(channel);
      if (!this.#failed[link].delete(channel)) this.#push({ kind: 'broken', link, channel, reason: reasonCode, passes: 0 });
    } else {
      this.#clients.delete(channel);
      for (let i = seen - 1; i >= 0; i--) {
        if (this.#failed[i].delete(channel)) continue;
        this.#push({ kind: 'broken', link: i, channel, reason: reasonCode, passes: 0 });
      }
    }
    // Often inside a plugin call (channel-close): never nested, delivered once it returned.
    this.#schedule();
    this.#forget(channel);
  }

  /** A channel ended without any handle-broken (the broker closed it so): forget it. */
  channelEnded(channel: number): void {
    this.#clients.delete(channel);
    this.#upstreamLink.delete(channel);
    for (const failed of this.#failed) failed.delete(channel);
    this.#forget(channel);
  }

  /** Delivers what is queued (the shutdown's handle-broken calls), then stops every link, the application first. */
  async stop(): Promise<void> {
    this.#pump();
    for (let i = this.#links.length - 1; i >= 0; i--) await this.#links[i].stop();
  }

  /** The passes a frame made now by link `index` about `channel` has gone through. */
  #passesOf(index: number, channel: number): number {
    const current = this.#current;
    if (current !== undefined && current.link === index) return current.passes + 1;
    // A worker's effects arrive after its call: count from the last frame it was given.
    return (this.#workerPasses.get(channel) ?? 0) + 1;
  }

  #enqueueFrame(kind: 'msg' | 'send', link: number, channel: number, payload: Uint8Array, passes: number): void {
    this.#fromHost({ kind, link, channel, payload, passes });
  }

  /**
   * Queues what a host call asked for. Outside the pump (a timer, a resumed connect, a worker's
   * effects) the calling instance may still be running: deliver once the current stack returned.
   */
  #fromHost(delivery: Delivery): void {
    this.#push(delivery);
    this.#schedule();
  }

  /** Runs the pump at the end of the current stack (no-op while it runs: it takes what is queued). */
  #schedule(): void {
    if (this.#pumping || this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #push(delivery: Delivery): void {
    if (delivery.passes > MAX_CHAIN_PASSES) {
      const channel = delivery.kind === 'group' ? delivery.except : delivery.channel;
      if (!this.#loopLogged.has(channel)) {
        this.#loopLogged.add(channel);
        this.#deps.log.warn(
          { code: 'PB_ERR_CHAIN_LOOP', channel, passes: MAX_CHAIN_PASSES, link: delivery.link },
          `a frame went through ${MAX_CHAIN_PASSES} plugin calls of the chain: dropped (a filter passes back what it receives?)`,
        );
      }
      return;
    }
    this.#queue.push(delivery);
  }

  /** Delivers `first` (when given), then what is queued, in order, until nothing is. */
  #pump(first?: Delivery): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      if (first !== undefined) this.#deliver(first);
      const queue = this.#queue;
      let head = 0;
      while (head < queue.length) {
        const delivery = queue[head++];
        if (head > 1024) {
          queue.splice(0, head);
          head = 0;
        }
        this.#deliver(delivery);
      }
      queue.length = 0;
    } finally {
      this.#pumping = false;
      this.#current = undefined;
    }
  }

  #deliver(delivery: Delivery): void {
    const link = this.#links[delivery.link];
    const previous = this.#current;
    this.#current = delivery;
    try {
      switch (delivery.kind) {
        case 'msg':
          if (link.isolation === 'worker') this.#workerPasses.set(delivery.channel, delivery.passes);
          link.handleMsg(delivery.channel, delivery.payload);
          break;
        case 'send':
          link.handleSend!(delivery.channel, delivery.payload);
          break;
        case 'group':
          link.handleGroupSend!(delivery.group, delivery.payload, delivery.except);
          break;
        case 'broken':
          link.handleBroken(delivery.channel, delivery.reason);
          break;
      }
    } finally {
      this.#current = previous;
    }
  }

  /** Drops what the chain kept about `channel`, once its last handle-broken went out. */
  #forget(channel: number): void {
    this.#loopLogged.delete(channel);
    this.#workerPasses.delete(channel);
    // Readable during handle-broken (a worker reads its own mirror): dropped at the end of the turn.
    queueMicrotask(() => {
      for (const data of this.#data) data.delete(channel);
    });
  }
}
