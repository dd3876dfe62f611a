/**
 * The `groups` interface of `wit/plugin.wit`: checks what the plugin may get wrong (group names,
 * payload size) and delegates to the router. No state of its own.
 */
import type { RemoteSizeFeed } from '../cluster/cluster.js';
import { MAX_GROUP_NAME_BYTES } from '../limits.js';
import type { Router } from '../routing/router.js';

/** `groups` functions, with strings lifted; `src[start, end)` is a view into plugin memory valid during the call. */
export interface GroupsImports {
  /** `group-join`. */
  groupJoin(group: string, channel: number): boolean;
  /** `group-leave`. */
  groupLeave(group: string, channel: number): boolean;
  /** `group-send`: deliveries queued. */
  groupSend(group: string, src: Uint8Array, start: number, end: number, except: number): number;
  /** `group-size`. */
  groupSize(group: string): number;
  /** Not WIT (worker isolation): every group and its members, to rebuild a fresh worker's mirror. */
  memberships(): Iterable<readonly [string, ReadonlySet<number>]>;
  /**
   * Not WIT (worker isolation, with a cluster): remote group sizes for the worker's mirror, so that
   * its `group-size` and `group-send` count the other nodes' members as inline does.
   */
  openRemoteSizeFeed?(): RemoteSizeFeed;
}

/** Limits the `groups` interface enforces. */
export interface GroupsLimits {
  /** Largest frame body a plugin may send. */
  readonly maxFrameBytes: number;
}

/** Whether `group` is a usable group name: 1 to `MAX_GROUP_NAME_BYTES` bytes of UTF-8. */
export function isValidGroupName(group: string): boolean {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: skip the byte count for short names.
  return group.length > 0 && (group.length * 3 <= MAX_GROUP_NAME_BYTES || Buffer.byteLength(group) <= MAX_GROUP_NAME_BYTES);
}

/**
 * Builds the `groups` interface of one plugin over `router`; with `cluster`, worker isolation can
 * also follow the remote group sizes.
 */
export function createGroupsImports(router: Router, limits: GroupsLimits, cluster?: { openRemoteSizeFeed(): RemoteSizeFeed }): GroupsImports {
  return {
    openRemoteSizeFeed: cluster === undefined ? undefined : () => cluster.openRemoteSizeFeed(),
    groupJoin(group, channel) {
      if (!isValidGroupName(group)) return false;
      const result = router.groupJoin(group, channel);
      return result === 'joined' || result === 'already-member';
    },
    groupLeave: (group, channel) => isValidGroupName(group) && router.groupLeave(group, channel),
    groupSend(group, src, start, end, except) {
      if (end - start > limits.maxFrameBytes || !isValidGroupName(group)) return 0;
      return router.groupSend(group, src, start, end, except);
    },
    groupSize: (group) => (isValidGroupName(group) ? router.groupSize(group) : 0),
    memberships: () => router.groupMemberships(),
  };
}
