// Chat: rooms (broker groups), a delayed reply (a broker timer) and a question for a backend
// service (a broker upstream). Commands, one per frame:
//
//   join <room>          joins the room (1 to 64 bytes); reply `joined <room> <members>`
//   leave <room>         leaves it; reply `left <room>`, or `not in <room>`
//   say <room> <text>    sends `<room>: <text>` to every other member; reply `sent <count>`
//   ping <ms>            reply `pong` after <ms> milliseconds (0 to 60000); a new ping replaces one
//                        still pending
//   cancel               cancels the pending ping; reply `cancelled`, or `no ping pending`
//   ask <text>           sends <text> to a node of the `logic` service on a new upstream channel
//                        and relays the node's answer; `error: no logic node` when there is none
//
// Anything else gets `error: unknown command`. Rooms live in the broker (a channel leaves them when
// it ends), and a ping's timer token is the channel's handle, cancelled when the channel ends. The
// only state the plugin keeps is which client each open question belongs to.

import { Channel, CloseReason, Group, Plugin, register, timers, upstreams } from "../../../plugin-sdk-as/assembly";
export * from "../../../plugin-sdk-as/assembly/abi/exports";
export * from "../../../plugin-sdk-as/assembly/abi/timer-exports";

const MAX_ROOM_BYTES = 64;
const MAX_PING_MS: u32 = 60000;
const UNKNOWN = "error: unknown command";
const LOGIC_SERVICE = "logic";

/** The payload's bytes from `from` on, as a UTF-8 string. */
function textFrom(payload: Uint8Array, from: i32): string {
  return String.UTF8.decodeUnsafe(payload.dataStart + <usize>from, <usize>(payload.length - from));
}

/** True when `payload` starts with the ASCII `word`. */
function startsWith(payload: Uint8Array, word: string): bool {
  if (payload.length < word.length) return false;
  for (let i = 0; i < word.length; i++) {
    if (<i32>payload[i] != word.charCodeAt(i)) return false;
  }
  return true;
}

/** The room named by the rest of `payload` after `word`, or null unless 1 to 64 bytes. */
function roomAfter(payload: Uint8Array, word: string): string | null {
  if (!startsWith(payload, word)) return null;
  let len = payload.length - word.length;
  if (len < 1 || len > MAX_ROOM_BYTES) return null;
  return textFrom(payload, word.length);
}

/** All of `payload` after `ping ` as milliseconds up to MAX_PING_MS, or -1. */
function pingMs(payload: Uint8Array): i64 {
  if (!startsWith(payload, "ping ")) return -1;
  let len = payload.length - 5;
  if (len < 1 || len > 5) return -1;
  let ms: i64 = 0;
  for (let i = 5; i < payload.length; i++) {
    let d = <i32>payload[i] - 0x30;
    if (d < 0 || d > 9) return -1;
    ms = ms * 10 + d;
  }
  return ms <= <i64>MAX_PING_MS ? ms : -1;
}

class Chat extends Plugin {
  /** Open questions: the upstream channel each went out on → the client that asked. */
  questions: Map<Channel, Channel> = new Map();

  onMessage(channel: Channel, payload: Uint8Array): void {
    if (this.questions.has(channel)) {
      // A node answered: relay it, and this question's upstream channel is done.
      this.questions.get(channel).send(payload);
      this.questions.delete(channel);
      channel.close();
      return;
    }
    let room = roomAfter(payload, "join ");
    if (room !== null) {
      let group = new Group(room);
      channel.sendString(group.join(channel) ? "joined " + room + " " + group.size.toString() : "error: cannot join");
      return;
    }
    room = roomAfter(payload, "leave ");
    if (room !== null) {
      channel.sendString((new Group(room).leave(channel) ? "left " : "not in ") + room);
      return;
    }
    if (startsWith(payload, "say ")) {
      this.say(channel, payload);
      return;
    }
    let ms = pingMs(payload);
    if (ms >= 0) {
      timers.once(<u64>channel.id, <u32>ms);
      return;
    }
    if (payload.length == 6 && startsWith(payload, "cancel")) {
      channel.sendString(timers.cancel(<u64>channel.id) ? "cancelled" : "no ping pending");
      return;
    }
    if (startsWith(payload, "ask ")) {
      let up = upstreams.open(LOGIC_SERVICE);
      if (up === null) {
        channel.sendString("error: no logic node");
        return;
      }
      this.questions.set(up, channel);
      up.send(payload.subarray(4)); // queued until the node accepts the connection
      return;
    }
    channel.sendString(UNKNOWN);
  }

  /** `say <room> <text>`: `<room>: <text>` to every other member. */
  say(channel: Channel, payload: Uint8Array): void {
    let space = -1;
    for (let i = 4; i < payload.length; i++) {
      if (payload[i] == 0x20) {
        space = i;
        break;
      }
    }
    let roomLen = space - 4;
    if (space < 0 || roomLen < 1 || roomLen > MAX_ROOM_BYTES) {
      channel.sendString(UNKNOWN);
      return;
    }
    let room = String.UTF8.decodeUnsafe(payload.dataStart + 4, <usize>roomLen);
    let head = Uint8Array.wrap(String.UTF8.encode(room + ": "));
    let frame = new Uint8Array(head.length + payload.length - space - 1);
    frame.set(head);
    frame.set(payload.subarray(space + 1), head.length);
    channel.sendString("sent " + new Group(room).send(frame, channel).toString());
  }

  /** A ping's timer is due: its token is the channel that asked. */
  onTimer(token: u64): void {
    Channel.fromId(<u32>token).sendString("pong");
  }

  onBroken(channel: Channel, reason: CloseReason): void {
    if (this.questions.has(channel)) {
      this.questions.get(channel).sendString("error: logic node lost"); // gone before answering
      this.questions.delete(channel);
      return;
    }
    timers.cancel(<u64>channel.id); // a ping still pending must not fire for a dead channel
    // Nobody is waiting for these answers any more.
    let ups = this.questions.keys();
    for (let i = 0; i < ups.length; i++) {
      if (this.questions.get(ups[i]) == channel) {
        this.questions.delete(ups[i]);
        ups[i].close();
      }
    }
  }
}

register(new Chat());
