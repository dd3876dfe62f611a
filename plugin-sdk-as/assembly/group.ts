// `Group`: a named set of channels that one frame can be sent to at once.

import { groupJoin, groupLeave, groupSend, groupSize } from "./abi/imports";
import { lowerUtf8, releaseUtf8, utf8ScratchPtr } from "./abi/canonical";
import { Channel } from "./channel";

/**
 * A named group of channels (WIT interface `groups`). The broker holds the membership: a group
 * exists while it has members, and a channel leaves all its groups by itself when it ends, so
 * `onBroken` needs no clean-up. Creating a `Group` object costs one small allocation and no host
 * call; keep it in a field for groups you send to often.
 *
 * Sending encodes the frame once, whatever the number of members, and consecutive sends to the
 * same group leave in one write per member.
 */
export class Group {
  /** The group's name: 1 to 256 bytes of UTF-8. */
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  /**
   * Adds `channel` to the group (a no-op when it is a member already).
   * @returns false when the channel is dead or closing, the name is empty or too long, or the
   * channel is in 1024 groups already.
   */
  join(channel: Channel): bool {
    return groupJoin(changetype<usize>(this.name), <usize>this.name.length, channel.id) != 0;
  }

  /** Removes `channel` from the group. @returns false when it was not a member. */
  leave(channel: Channel): bool {
    return groupLeave(changetype<usize>(this.name), <usize>this.name.length, channel.id) != 0;
  }

  /**
   * Queues one frame with `payload` as its body for every member except `except` (typically the
   * sender). The bytes are copied before this returns.
   * @returns the number of members it was queued for (0 for an empty group or a payload above
   * the broker's frame size limit).
   */
  send(payload: Uint8Array, except: Channel | null = null): u32 {
    return groupSend(
      changetype<usize>(this.name), <usize>this.name.length,
      payload.dataStart, <usize>payload.byteLength, exceptId(except),
    );
  }

  /** Like `send`, with `text` encoded as UTF-8 (into a reused scratch block: no allocation). */
  sendString(text: string, except: Channel | null = null): u32 {
    let len = lowerUtf8(text);
    let n = groupSend(changetype<usize>(this.name), <usize>this.name.length, utf8ScratchPtr(), len, exceptId(except));
    releaseUtf8();
    return n;
  }

  /** Number of members now. */
  get size(): u32 {
    return groupSize(changetype<usize>(this.name), <usize>this.name.length);
  }
}

// @ts-ignore: decorator
@inline function exceptId(except: Channel | null): u32 {
  // `Channel | null` is the handle itself, with null as handle 0: exactly the WIT's "nobody".
  return <u32>changetype<usize>(except);
}
