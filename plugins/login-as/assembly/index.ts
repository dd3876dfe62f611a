// Login: a stateful sample. The first frame must be `login <name>` (a name of 1 to 32 bytes); the
// plugin answers `<greeting> <name>` and from then on echoes every frame prefixed with `<name>: `.
// Any other first frame is answered with `error: expected "login <name>"` and the channel is
// closed. A logged-in channel is marked authenticated, so `--auth-deadline-ms` closes only peers
// that never log in. The greeting is the plugin config (`--plugin-config`), `welcome` when empty; a config
// longer than 32 bytes refuses to start.
//
// Per-channel state lives in a Map entry created in onConnect and deleted in onBroken, so memory
// stays flat however many connections come and go (the collector frees the names). The name is also
// stored as the channel's data (`channel.setData`), which the broker keeps: after a trap the fresh
// instance reads it back in the resumed onConnect, so a logged-in peer stays logged in. To show it,
// a logged-in peer's frame `!trap` makes the plugin trap (this is a sample: a real plugin has no
// such command). The plugin is a
// `stateful-plugin`: on a hot swap (SIGHUP) the sessions move to the new instance, so logged-in
// peers stay logged in. A channel it does not know (after a swap from a version whose state it
// cannot read) starts over, as if it had just connected.

import { Channel, CloseReason, PeerInfo, Plugin, log, register } from "../../../plugin-sdk-as/assembly";
export * from "../../../plugin-sdk-as/assembly/abi/exports";
export * from "../../../plugin-sdk-as/assembly/abi/stateful-exports";

const MAX_NAME_BYTES = 32;
const MAX_GREETING_BYTES = 32;
const ERROR_REPLY = 'error: expected "login <name>"';
const SNAPSHOT_VERSION: u8 = 1;

/** `login `, as bytes. */
const LOGIN_PREFIX: StaticArray<u8> = [0x6c, 0x6f, 0x67, 0x69, 0x6e, 0x20];

/** The bytes of `head` followed by those of `tail`, in a fresh array. */
function concat(head: Uint8Array, tail: Uint8Array): Uint8Array {
  let joined = new Uint8Array(head.length + tail.length);
  joined.set(head);
  joined.set(tail, head.length);
  return joined;
}

/** True when `frame` is `login <name>` with a name of 1 to MAX_NAME_BYTES bytes. */
function isLogin(frame: Uint8Array): bool {
  let prefixLen = LOGIN_PREFIX.length;
  if (frame.length <= prefixLen || frame.length > prefixLen + MAX_NAME_BYTES) return false;
  for (let i = 0; i < prefixLen; i++) {
    if (frame[i] != LOGIN_PREFIX[i]) return false;
  }
  return true;
}

/** `!trap`, as bytes. */
const TRAP_COMMAND: StaticArray<u8> = [0x21, 0x74, 0x72, 0x61, 0x70];

/** True when `frame` is exactly `!trap`. */
function isTrap(frame: Uint8Array): bool {
  if (frame.length != TRAP_COMMAND.length) return false;
  for (let i = 0; i < TRAP_COMMAND.length; i++) {
    if (frame[i] != TRAP_COMMAND[i]) return false;
  }
  return true;
}

class Login extends Plugin {
  /** `<greeting> ` as UTF-8. */
  greeting: Uint8Array = new Uint8Array(0);
  /** Channel → its name as UTF-8; an empty array until the peer has logged in. */
  sessions: Map<Channel, Uint8Array> = new Map();

  start(config: string): string | null {
    if (String.UTF8.byteLength(config) > MAX_GREETING_BYTES) return "greeting longer than 32 bytes";
    let greeting = config.length == 0 ? "welcome " : config + " ";
    this.greeting = Uint8Array.wrap(String.UTF8.encode(greeting));
    return null;
  }

  onConnect(channel: Channel, peer: PeerInfo): bool {
    // A resumed channel (after a trap) keeps its login: the name is the channel's data.
    this.sessions.set(channel, Uint8Array.wrap(channel.getData()));
    return true;
  }

  onMessage(channel: Channel, payload: Uint8Array): void {
    if (!this.sessions.has(channel)) this.sessions.set(channel, Uint8Array.wrap(channel.getData()));
    let name = this.sessions.get(channel);
    if (name.length > 0) {
      if (isTrap(payload)) unreachable(); // the demo of a trap (see the top of the file)
      let prefix = new Uint8Array(name.length + 2);
      prefix.set(name);
      prefix[name.length] = 0x3a; // ':'
      prefix[name.length + 1] = 0x20; // ' '
      channel.send(concat(prefix, payload));
      return;
    }
    if (!isLogin(payload)) {
      channel.sendString(ERROR_REPLY);
      channel.close();
      return;
    }
    // The payload is lent until this call returns: keep a copy of the name.
    name = payload.slice(LOGIN_PREFIX.length);
    this.sessions.set(channel, name);
    channel.setData(name); // kept by the broker: survives a trap
    channel.authenticate(); // lifts the broker's auth deadline (--auth-deadline-ms)
    channel.send(concat(this.greeting, name));
    log.info(String.UTF8.decode(name.buffer) + " logged in");
  }

  onBroken(channel: Channel, reason: CloseReason): void {
    this.sessions.delete(channel);
  }

  /**
   * A version byte, then per session its channel (u32, little-endian), the name's length (0: not
   * logged in) and the name.
   */
  snapshot(): Uint8Array {
    let channels = this.sessions.keys();
    let size = 1;
    for (let i = 0; i < channels.length; i++) size += 5 + this.sessions.get(channels[i]).length;
    let state = new Uint8Array(size);
    state[0] = SNAPSHOT_VERSION;
    let at = 1;
    for (let i = 0; i < channels.length; i++) {
      let name = this.sessions.get(channels[i]);
      store<u32>(state.dataStart + at, channels[i].id);
      state[at + 4] = <u8>name.length;
      state.set(name, at + 5);
      at += 5 + name.length;
    }
    return state;
  }

  restore(state: Uint8Array): void {
    if (state.length == 0 || state[0] != SNAPSHOT_VERSION) return; // unknown: channels start over
    let at = 1;
    while (at + 5 <= state.length) {
      let channel = Channel.fromId(load<u32>(state.dataStart + at));
      let len = <i32>state[at + 4];
      if (len > MAX_NAME_BYTES || at + 5 + len > state.length) return;
      // The state is lent for this call: keep copies of the names.
      this.sessions.set(channel, state.slice(at + 5, at + 5 + len));
      at += 5 + len;
    }
  }
}

register(new Login());
