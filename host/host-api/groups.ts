/**
 * The `groups` interface of `wit/plugin.wit` (`group-join`, `group-leave`, `group-send`,
 * `group-size`): checks what the plugin may get wrong (group names, payload size), then delegates
 * to a `GroupsTarget`: the router on the I/O thread, the membership mirror inside a plugin worker.
 * The checks live only here. No state of its own.
 */
import { MAX_GROUP_NAME_BYTES } from '../limits.js';
import type { Router } from '../routing/router.js';

/** The `groups` interface, with strings lifted; `src[start, end)` is a view into plugin memory valid during the call. */
export interface GroupsInterface {
  /** `group-join`. */
  groupJoin(group: string, channel: number): boolean;
  /** `group-leave`. */
  groupLeave(group: string, channel: number): boolean;
  /** `group-send`: deliveries queued. */
  groupSend(group: string, src: Uint8Array, start: number, end: number, except: number): number;
  /** `group-size`. */
  groupSize(group: string): number;
}

/** Where `groups` calls go once their arguments passed the checks (a valid name, a frame within limits). */
export interface GroupsTarget {
  /** Adds a live `channel`; true when it is a member afterwards. */
  join(group: string, channel: number): boolean;
  /** False when `channel` was not a member. */
  leave(group: string, channel: number): boolean;
  /** Members the frame was queued for. */
  send(group: string, src: Uint8Array, start: number, end: number, except: number): number;
  size(group: string): number;
}

/** Limits the `groups` interface enforces. */
export interface GroupsLimits {
  /** Largest frame body a plugin may send, in bytes. */
  readonly maxFrameBytes: number;
}

/** Whether `group` is a usable group name: 1 to `MAX_GROUP_NAME_BYTES` bytes of UTF-8. */
export function isValidGroupName(group: string): boolean {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: skip the byte count for short names.
  return group.length > 0 && (group.length * 3 <= MAX_GROUP_NAME_BYTES || Buffer.byteLength(group) <= MAX_GROUP_NAME_BYTES);
}

/** Builds the `groups` interface over `target`. */
export function createGroupsInterface(target: GroupsTarget, limits: GroupsLimits): GroupsInterface {
  const maxFrameBytes = limits.maxFrameBytes;
  return {
    groupJoin: (group, channel) => isValidGroupName(group) && target.join(group, channel),
    groupLeave: (group, channel) => isValidGroupName(group) && target.leave(group, channel),
    groupSend: (group, src, start, end, except) => (end - start > maxFrameBytes || !isValidGroupName(group) ? 0 : target.send(group, src, start, end, except)),
    groupSize: (group) => (isValidGroupName(group) ? target.size(group) : 0),
  };
}

/** The I/O thread's `groups` target: the router's group index and fan-out. */
export function routerGroupsTarget(router: Router): GroupsTarget {
  return {
    join(group, channel) {
      const result = router.groupJoin(group, channel);
      return result === 'joined' || result === 'already-member';
    },
    leave: (group, channel) => router.groupLeave(group, channel),
    send: (group, src, start, end, except) => router.groupSend(group, src, start, end, except),
    size: (group) => router.groupSize(group),
  };
}
