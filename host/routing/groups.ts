/**
 * `GroupIndex`: which channels are in which named group, both ways (group → channel ids, channel →
 * groups), so that a channel leaves all its groups in time proportional to their number. Plain
 * data: no sockets, no plugin runtime, no sending (fan-out.ts sends).
 */
import { MAX_GROUPS_PER_CHANNEL } from '../limits.js';

/** Outcome of `join`. */
export type JoinResult = 'joined' | 'already-member' | 'too-many-groups';

export class GroupIndex {
  readonly #members = new Map<string, Set<number>>();
  readonly #groupsOf = new Map<number, Set<string>>();
  readonly #maxGroupsPerChannel: number;

  /** @param maxGroupsPerChannel groups one channel may be in at once (default `MAX_GROUPS_PER_CHANNEL`). */
  constructor(maxGroupsPerChannel = MAX_GROUPS_PER_CHANNEL) {
    this.#maxGroupsPerChannel = maxGroupsPerChannel;
  }

  /** Adds `channel` to `group`, creating the group. */
  join(group: string, channel: number): JoinResult {
    let mine = this.#groupsOf.get(channel);
    if (mine?.has(group) === true) return 'already-member';
    if (mine === undefined) this.#groupsOf.set(channel, (mine = new Set()));
    else if (mine.size >= this.#maxGroupsPerChannel) return 'too-many-groups';
    mine.add(group);
    let members = this.#members.get(group);
    if (members === undefined) this.#members.set(group, (members = new Set()));
    members.add(channel);
    return 'joined';
  }

  /** Removes `channel` from `group` (an empty group disappears); false when it was not a member. */
  leave(group: string, channel: number): boolean {
    const mine = this.#groupsOf.get(channel);
    if (mine === undefined || !mine.delete(group)) return false;
    if (mine.size === 0) this.#groupsOf.delete(channel);
    this.#removeMember(group, channel);
    return true;
  }

  /** Removes `channel` from every group it is in: O(its groups). Returns how many it left. */
  leaveAll(channel: number): number {
    const mine = this.#groupsOf.get(channel);
    if (mine === undefined) return 0;
    this.#groupsOf.delete(channel);
    for (const group of mine) this.#removeMember(group, channel);
    return mine.size;
  }

  /**
   * The members of `group`, or undefined when it has none. The set is live (it changes with
   * joins and leaves) and is a new object each time the group is re-created after emptying.
   */
  members(group: string): ReadonlySet<number> | undefined {
    return this.#members.get(group);
  }

  /** Empties the index. */
  clear(): void {
    this.#members.clear();
    this.#groupsOf.clear();
  }

  /** Every non-empty group and its live member set. */
  entries(): IterableIterator<[string, ReadonlySet<number>]> {
    return this.#members.entries();
  }

  /** Number of members of `group`. */
  size(group: string): number {
    return this.#members.get(group)?.size ?? 0;
  }

  /** Groups `channel` is in. */
  groupsOf(channel: number): ReadonlySet<string> {
    return this.#groupsOf.get(channel) ?? EMPTY;
  }

  /** Number of non-empty groups. */
  get groupCount(): number {
    return this.#members.size;
  }

  #removeMember(group: string, channel: number): void {
    const members = this.#members.get(group);
    if (members === undefined) return;
    members.delete(channel);
    if (members.size === 0) this.#members.delete(group);
  }
}

const EMPTY: ReadonlySet<string> = new Set();
