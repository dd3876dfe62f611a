/**
 * Delivers what a plugin asks for to connections: frames to one channel or to a group (groups.ts
 * holds membership, fan-out.ts batches the sends), and closes. It never imports the plugin runtime.
 *
 * With a cluster (#12) a `ClusterLink` is attached: every change of a group's local member count
 * goes to it (it subscribes the group's subject while the group has local members and announces
 * the count), every group send also goes to it (one publish, whatever the member count), and
 * group sends from other nodes come back through `deliverRemote`. Both isolation modes pass
 * through here (a worker's group effects are applied on this thread), so both get the cluster.
 */
import type { ConnectionRegistry } from '../connection/registry.js';
import { isLive } from '../connection/connection-state.js';
import { FanOut } from './fan-out.js';
import { GroupIndex, type JoinResult } from './groups.js';

/** What the router needs from a cluster (host/cluster/cluster.ts). */
export interface ClusterLink {
  /** `group` now has `size` local members (0: none left). Called after every join and leave. */
  localSizeChanged(group: string, size: number): void;
  /**
   * A group send to `group`: forwards `src[start, end)` to the other nodes (copying it) and returns
   * how many members they have, as last announced (0 when it was not sent).
   */
  publish(group: string, src: Uint8Array, start: number, end: number): number;
  /** Members of `group` on the other nodes, as last announced. */
  remoteSize(group: string): number;
}

export class Router {
  readonly #registry: ConnectionRegistry;
  readonly #groups = new GroupIndex();
  readonly #fanOut: FanOut;
  #cluster: ClusterLink | null = null;
  /** Frames queued for group members since start (read by metrics, #11). */
  groupDeliveries = 0;

  constructor(registry: ConnectionRegistry) {
    this.#registry = registry;
    this.#fanOut = new FanOut((channel) => registry.get(channel));
  }

  /** Joins the router to a cluster; every group that has local members already is announced. */
  attachCluster(link: ClusterLink): void {
    this.#cluster = link;
    for (const [group, members] of this.#groups.entries()) link.localSizeChanged(group, members.size);
  }

  /** Queues `src[start, end)` as a frame for `channel`; false when unknown, closing or full. */
  send(channel: number, src: Uint8Array, start: number, end: number): boolean {
    this.#fanOut.flush(); // group frames staged before this one go first
    const conn = this.#registry.get(channel);
    return conn !== undefined && conn.send(src, start, end);
  }

  /** Whether `channel` is a connection that has not ended (it may be closing). */
  knows(channel: number): boolean {
    return this.#registry.get(channel) !== undefined;
  }

  /** Bytes queued for `channel`'s peer and not yet taken by the kernel; 0 when it is unknown or no longer live. */
  outboundBytes(channel: number): number {
    const conn = this.#registry.get(channel);
    return conn !== undefined && isLive(conn.state) ? conn.outboundBytes : 0;
  }

  /**
   * A plugin in a worker queued more for `channel` than `maxOutboundBytes` allows (its
   * `channel-send` returned false): closes it `slow-consumer`, as `send` does inline.
   */
  overflow(channel: number): void {
    this.#fanOut.flush();
    this.#registry.get(channel)?.overflow();
  }

  /** Marks `channel` authenticated; false when it is unknown or no longer live. */
  authenticate(channel: number): boolean {
    return this.#registry.get(channel)?.authenticate() ?? false;
  }

  /** Closes `channel` gracefully on the plugin's request; unknown handles are ignored. */
  closeByPlugin(channel: number): void {
    this.#fanOut.flush(); // "after the frames already queued" includes staged group frames
    this.#registry.get(channel)?.close('closed-by-plugin');
  }

  /** Adds a live `channel` to `group`; 'unknown-channel' when it is not live. */
  groupJoin(group: string, channel: number): JoinResult | 'unknown-channel' {
    const conn = this.#registry.get(channel);
    if (conn === undefined || !isLive(conn.state)) return 'unknown-channel';
    this.#fanOut.flush(); // staged frames belong to the members of their time
    const result = this.#groups.join(group, channel);
    if (result === 'joined') this.#cluster?.localSizeChanged(group, this.#groups.size(group));
    return result;
  }

  /** Removes `channel` from `group`; false when it was not a member. */
  groupLeave(group: string, channel: number): boolean {
    this.#fanOut.flush();
    const left = this.#groups.leave(group, channel);
    if (left) this.#cluster?.localSizeChanged(group, this.#groups.size(group));
    return left;
  }

  /**
   * Queues `src[start, end)` as a frame for every member of `group` but `except` (0: none); the
   * number of members it was queued for. Batched: see fan-out.ts.
   */
  groupSend(group: string, src: Uint8Array, start: number, end: number, except: number): number {
    const members = this.#groups.members(group);
    const local = members === undefined ? 0 : this.#fanOut.send(members, except, src, start, end);
    this.groupDeliveries += local;
    // `except` is a channel of this node: the other nodes have nobody to leave out.
    return this.#cluster === null ? local : local + this.#cluster.publish(group, src, start, end);
  }

  /**
   * A group send from another node: the frame `src` for every local member of `group` (batched like
   * a local send). Returns the deliveries queued.
   */
  deliverRemote(group: string, src: Uint8Array): number {
    const members = this.#groups.members(group);
    return members === undefined ? 0 : this.#fanOut.send(members, 0, src, 0, src.length);
  }

  /** Members of `group`: on this node, plus those the cluster knows of on the others. */
  groupSize(group: string): number {
    const local = this.#groups.size(group);
    return this.#cluster === null ? local : local + this.#cluster.remoteSize(group);
  }

  /** Members of `group` on this node only. */
  localGroupSize(group: string): number {
    return this.#groups.size(group);
  }

  /** Number of non-empty groups. */
  get groupCount(): number {
    return this.#groups.groupCount;
  }

  /** Members of `group` (live set), or undefined when it has none. */
  groupMembers(group: string): ReadonlySet<number> | undefined {
    return this.#groups.members(group);
  }

  /** Groups `channel` is in. */
  groupsOf(channel: number): ReadonlySet<string> {
    return this.#groups.groupsOf(channel);
  }

  /** Every non-empty group and its (live) member set. */
  groupMemberships(): Iterable<readonly [string, ReadonlySet<number>]> {
    return this.#groups.entries();
  }

  /** `channel` stopped being live: it leaves every group (O(its groups)). */
  channelEnded(channel: number): void {
    const cluster = this.#cluster;
    if (cluster === null) {
      this.#groups.leaveAll(channel);
      return;
    }
    const groups = [...this.#groups.groupsOf(channel)];
    this.#groups.leaveAll(channel);
    for (const group of groups) cluster.localSizeChanged(group, this.#groups.size(group));
  }
}
