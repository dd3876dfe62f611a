/**
 * Delivers what a plugin asks for to connections: frames to one channel or to a group (groups.ts
 * holds membership, fan-out.ts batches the sends), and closes. It never imports the plugin runtime.
 */
import type { ConnectionRegistry } from '../connection/registry.js';
import { isLive } from '../connection/connection-state.js';
import { FanOut } from './fan-out.js';
import { GroupIndex, type JoinResult } from './groups.js';

export class Router {
  readonly #registry: ConnectionRegistry;
  readonly #groups = new GroupIndex();
  readonly #fanOut: FanOut;
  /** Frames queued for group members since start (read by metrics, #11). */
  groupDeliveries = 0;

  constructor(registry: ConnectionRegistry) {
    this.#registry = registry;
    this.#fanOut = new FanOut((channel) => registry.get(channel));
  }

  /** Queues `src[start, end)` as a frame for `channel`; false when unknown, closing or full. */
  send(channel: number, src: Uint8Array, start: number, end: number): boolean {
    this.#fanOut.flush(); // group frames staged before this one go first
    const conn = this.#registry.get(channel);
    return conn !== undefined && conn.send(src, start, end);
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
    return this.#groups.join(group, channel);
  }

  /** Removes `channel` from `group`; false when it was not a member. */
  groupLeave(group: string, channel: number): boolean {
    this.#fanOut.flush();
    return this.#groups.leave(group, channel);
  }

  /**
   * Queues `src[start, end)` as a frame for every member of `group` but `except` (0: none); the
   * number of members it was queued for. Batched: see fan-out.ts.
   */
  groupSend(group: string, src: Uint8Array, start: number, end: number, except: number): number {
    const members = this.#groups.members(group);
    if (members === undefined) return 0;
    const n = this.#fanOut.send(members, except, src, start, end);
    this.groupDeliveries += n;
    return n;
  }

  /** Members of `group`. */
  groupSize(group: string): number {
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
    this.#groups.leaveAll(channel);
  }
}
