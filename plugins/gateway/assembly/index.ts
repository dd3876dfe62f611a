// Gateway: the game-gateway flow of the original broker, end to end.
//
// - A client must log in first: `login <name>` (1 to 32 bytes). The channel is authenticated (the
//   broker's auth deadline stops), joins the group of players and gets `welcome <name>`. Any other
//   first frame gets `error: expected "login <name>"` and the channel is closed.
// - After that, each client frame goes to the `logic` service with the client's identity:
//   `M <msg-id> <client> <name> <body>` (examples/logic-server describes the protocol). The
//   gateway keeps a small pool of upstream channels (the broker spreads them over the nodes) and
//   sends a client's frames on one of them, in order.
// - From a logic node: `A <msg-id> <client> <body>` acknowledges a message and sends `body` to the
//   client; `P <client> <body>` pushes to one client; `B <body>` goes to every logged-in client
//   through the group; `U <name> <body>` pushes to the user <name> through its own group
//   `user:<name>`, so it reaches the client on whichever node of a cluster it is connected (#12).
// - A message stays in flight on its upstream channel until acknowledged. When a node fails, its
//   channels end (onBroken): the gateway opens new ones (the broker has ejected the failed node,
//   so they reach a survivor) and resends every message the failed node had not acknowledged.
//   Clients stay connected throughout; a message may be answered twice, never lost.

import {
  Channel, CloseReason, Group, PeerInfo, Plugin, log, register, timers, upstreams,
} from "../../../plugin-sdk-as/assembly";
export * from "../../../plugin-sdk-as/assembly/abi/exports";
export * from "../../../plugin-sdk-as/assembly/abi/timer-exports";

const SERVICE = "logic";
/** Upstream channels kept open (spread over the nodes by the service's policy). */
const POOL_SIZE = 4;
const MAX_NAME_BYTES = 32;
/** Timer token: retry opening upstream channels. */
const RETRY_TIMER: u64 = 1;
const RETRY_MIN_MS: u32 = 20;
const RETRY_MAX_MS: u32 = 2000;
const SPACE: u8 = 0x20;

/** `login `, as bytes. */
const LOGIN_PREFIX: StaticArray<u8> = [0x6c, 0x6f, 0x67, 0x69, 0x6e, 0x20];

/** A message forwarded to logic and not yet acknowledged. */
class InFlight {
  constructor(public msgId: u32, public client: u32, public frame: Uint8Array) {}
}

function isLogin(frame: Uint8Array): bool {
  let n = LOGIN_PREFIX.length;
  if (frame.length <= n || frame.length > n + MAX_NAME_BYTES) return false;
  for (let i = 0; i < n; i++) if (frame[i] != LOGIN_PREFIX[i]) return false;
  return true;
}

/** Index of the first space at or after `from`, or -1. */
function spaceAfter(bytes: Uint8Array, from: i32): i32 {
  for (let i = from; i < bytes.length; i++) if (bytes[i] == SPACE) return i;
  return -1;
}

/** The decimal number in `bytes[from, to)` (no sign, at most 10 digits). */
function parseU32(bytes: Uint8Array, from: i32, to: i32): u32 {
  let v: u64 = 0;
  for (let i = from; i < to; i++) v = v * 10 + <u64>(bytes[i] - 0x30);
  return <u32>v;
}

/** `head` as UTF-8 followed by `tail`, in a fresh array. */
function concat(head: string, tail: Uint8Array): Uint8Array {
  let h = Uint8Array.wrap(String.UTF8.encode(head));
  let out = new Uint8Array(h.length + tail.length);
  out.set(h);
  out.set(tail, h.length);
  return out;
}

class Gateway extends Plugin {
  players: Group = new Group("players");
  /** Logged-in clients: channel id → name. */
  names: Map<u32, string> = new Map();
  /** Open upstream channels. */
  pool: Array<u32> = [];
  /** Upstream channel id → its messages in flight (msg id → message). */
  inFlight: Map<u32, Map<u32, InFlight>> = new Map();
  /** Messages waiting for an upstream channel (none open). */
  waiting: Array<InFlight> = [];
  /** Client id → the upstream channel its frames go on (kept while that channel lives: order). */
  route: Map<u32, u32> = new Map();
  nextMsgId: u32 = 1;
  nextPick: i32 = 0;
  retryMs: u32 = RETRY_MIN_MS;
  retryArmed: bool = false;

  start(config: string): string | null {
    this.fillPool();
    return null;
  }

  onConnect(channel: Channel, peer: PeerInfo): bool {
    return true;
  }

  onMessage(channel: Channel, payload: Uint8Array): void {
    let id = channel.id;
    if (this.inFlight.has(id)) {
      this.fromLogic(id, payload);
      return;
    }
    if (!this.names.has(id)) {
      this.login(channel, payload);
      return;
    }
    let msgId = this.nextMsgId++;
    let name = this.names.get(id);
    let frame = concat("M " + msgId.toString() + " " + id.toString() + " " + name + " ", payload);
    this.forward(new InFlight(msgId, id, frame));
  }

  onBroken(channel: Channel, reason: CloseReason): void {
    let id = channel.id;
    if (!this.inFlight.has(id)) {
      this.names.delete(id); // the broker removed it from the group already
      this.route.delete(id);
      return;
    }
    // An upstream channel ended: take its unacknowledged messages and send them again elsewhere.
    let pending = this.inFlight.get(id);
    this.inFlight.delete(id);
    let at = this.pool.indexOf(id);
    if (at >= 0) this.pool.splice(at, 1);
    if (reason == CloseReason.Shutdown) return;
    log.warn("upstream channel " + id.toString() + " ended (" + reason.toString() + "); resending " + pending.size.toString() + " message(s)");
    this.fillPool();
    let ids = pending.keys();
    for (let i = 0; i < ids.length; i++) {
      let m = pending.get(ids[i]);
      if (this.route.has(m.client) && this.route.get(m.client) == id) this.route.delete(m.client);
      this.forward(m);
    }
  }

  onTimer(token: u64): void {
    if (token != RETRY_TIMER) return;
    this.retryArmed = false;
    this.fillPool();
    let waiting = this.waiting;
    this.waiting = [];
    for (let i = 0; i < waiting.length; i++) {
      this.forward(waiting[i]);
    }
  }

  login(channel: Channel, payload: Uint8Array): void {
    if (!isLogin(payload)) {
      channel.sendString('error: expected "login <name>"');
      channel.close();
      return;
    }
    let name = String.UTF8.decode(payload.buffer.slice(LOGIN_PREFIX.length));
    channel.authenticate();
    this.names.set(channel.id, name);
    this.players.join(channel);
    // A group of its own: reachable by name from any node of a cluster (docs/cluster.md).
    new Group("user:" + name).join(channel);
    channel.sendString("welcome " + name);
  }

  /** Sends `m` on the client's upstream channel (or the next one), and keeps it until acknowledged. */
  forward(m: InFlight): void {
    let up = this.upstreamFor(m.client);
    if (up == 0) {
      this.waiting.push(m);
      this.armRetry();
      return;
    }
    this.inFlight.get(up).set(m.msgId, m);
    Channel.fromId(up).send(m.frame);
  }

  upstreamFor(client: u32): u32 {
    if (this.route.has(client)) {
      let up = this.route.get(client);
      if (this.inFlight.has(up)) return up;
      this.route.delete(client); // that upstream channel ended
    }
    if (this.pool.length == 0) return 0;
    let up = this.pool[this.nextPick++ % this.pool.length];
    this.route.set(client, up);
    return up;
  }

  fromLogic(up: u32, payload: Uint8Array): void {
    if (payload.length < 2) return;
    let kind = payload[0];
    if (kind == 0x42) { // B <body>
      this.players.send(payload.subarray(2));
      return;
    }
    if (kind == 0x55) { // U <name> <body>
      let end = spaceAfter(payload, 2);
      if (end < 0) return;
      let name = String.UTF8.decode(payload.buffer.slice(payload.byteOffset + 2, payload.byteOffset + end));
      new Group("user:" + name).send(payload.subarray(end + 1));
      return;
    }
    if (kind == 0x50) { // P <client> <body>
      let end = spaceAfter(payload, 2);
      if (end < 0) return;
      Channel.fromId(parseU32(payload, 2, end)).send(payload.subarray(end + 1));
      return;
    }
    if (kind == 0x41) { // A <msg-id> <client> <body>
      let idEnd = spaceAfter(payload, 2);
      if (idEnd < 0) return;
      let clientEnd = spaceAfter(payload, idEnd + 1);
      if (clientEnd < 0) return;
      let pending = this.inFlight.get(up);
      let msgId = parseU32(payload, 2, idEnd);
      if (!pending.has(msgId)) return; // a duplicate acknowledgement after a resend: answered already
      pending.delete(msgId);
      Channel.fromId(parseU32(payload, idEnd + 1, clientEnd)).send(payload.subarray(clientEnd + 1));
    }
  }

  /** Opens upstream channels until the pool is full; when none can be opened, retries later. */
  fillPool(): void {
    while (this.pool.length < POOL_SIZE) {
      let ch = upstreams.open(SERVICE);
      if (ch === null) {
        this.armRetry();
        return;
      }
      this.pool.push(ch.id);
      this.inFlight.set(ch.id, new Map());
    }
    this.retryMs = RETRY_MIN_MS;
  }

  armRetry(): void {
    if (this.retryArmed) return;
    this.retryArmed = timers.once(RETRY_TIMER, this.retryMs);
    this.retryMs = min(this.retryMs * 2, RETRY_MAX_MS);
  }
}

register(new Gateway());
