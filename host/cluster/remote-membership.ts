/**
 * `RemoteMembership`: how many members every other node has in each group, as last announced, and
 * the sum per group (what `group-size` adds to the local count, and what tells a cross-node send
 * whether any other node wants it). Pure bookkeeping: callers feed it the decoded control
 * messages with the time, and act on what it answers (request a sync, log a lost node).
 *
 * Per node: its incarnation (`epoch`), the sequence number of the last delta applied, when it was
 * last heard, and its table. Deltas carry absolute counts, so applying one twice is harmless; a
 * sequence number that skips one means a delta was lost (NATS core is at-most-once) and the node
 * is asked for a snapshot, which replaces its table. A node not heard for
 * `CLUSTER_NODE_LOST_AFTER_BEATS` of its presence intervals is lost and its memberships go.
 * (The presence/expiry scheme after Centrifugo's NATS broker: announce every few seconds, drop a
 * node after a few silent intervals.)
 */
import { CLUSTER_NODE_LOST_AFTER_BEATS } from '../limits.js';
import type { ByeMessage, GroupCount, MembersMessage, PresenceMessage, SnapshotMessage } from './control-messages.js';

/** What the caller should do after a message: nothing, or ask the node for a snapshot. */
export type MembershipAction = 'ok' | 'sync';

/** One remote node, as `nodes()` reports it. */
export interface RemoteNodeInfo {
  readonly node: string;
  readonly epoch: number;
  /** Whether its table is complete (false while a snapshot is awaited). */
  readonly synced: boolean;
  /** Groups it has members in, and its members summed over them. */
  readonly groups: number;
  readonly members: number;
  /** When it was last heard, ms (the caller's clock). */
  readonly lastSeenMs: number;
}

interface NodeState {
  readonly node: string;
  epoch: number;
  seq: number;
  synced: boolean;
  lastSeenMs: number;
  intervalMs: number;
  /** When a snapshot was last requested (retried after one interval). */
  syncRequestedMs: number;
  readonly groups: Map<string, number>;
  members: number;
  /** Parts of a snapshot being received. */
  staging: { epoch: number; seq: number; nextPart: number; groups: Map<string, number> } | null;
}

export class RemoteMembership {
  readonly #self: string;
  readonly #nodes = new Map<string, NodeState>();
  readonly #totals = new Map<string, number>();
  readonly #onTotalChanged: (group: string, total: number) => void;
  readonly #defaultIntervalMs: number;

  /**
   * @param self this node's id (its own messages are ignored, should NATS echo them).
   * @param defaultIntervalMs presence interval assumed for a node heard before its first beat.
   * @param onTotalChanged called whenever a group's remote total changes.
   */
  constructor(self: string, defaultIntervalMs: number, onTotalChanged: (group: string, total: number) => void = () => {}) {
    this.#self = self;
    this.#defaultIntervalMs = defaultIntervalMs;
    this.#onTotalChanged = onTotalChanged;
  }

  /** Members of `group` on every other node, as last announced. */
  total(group: string): number {
    return this.#totals.get(group) ?? 0;
  }

  /** Every group with remote members, and its total. */
  totals(): IterableIterator<[string, number]> {
    return this.#totals.entries();
  }

  /** Number of nodes known. */
  get nodeCount(): number {
    return this.#nodes.size;
  }

  /** The nodes known, for status. */
  nodes(): RemoteNodeInfo[] {
    return [...this.#nodes.values()].map((n) => ({
      node: n.node,
      epoch: n.epoch,
      synced: n.synced,
      groups: n.groups.size,
      members: n.members,
      lastSeenMs: n.lastSeenMs,
    }));
  }

  /** A presence beat. */
  onPresence(msg: PresenceMessage, nowMs: number): MembershipAction {
    if (msg.node === this.#self) return 'ok';
    const n = this.#meet(msg.node, msg.epoch, msg.seq, nowMs);
    n.intervalMs = msg.intervalMs;
    if (n.synced && msg.seq !== n.seq) {
      // It announced deltas we never got (or, after a restart of ours, never saw): start over.
      n.synced = false;
    }
    return this.#wantSync(n, nowMs);
  }

  /** A membership delta. */
  onMembers(msg: MembersMessage, nowMs: number): MembershipAction {
    if (msg.node === this.#self) return 'ok';
    // A node we have not met whose first delta is 1 started empty: no snapshot needed.
    const n = this.#meet(msg.node, msg.epoch, msg.seq - 1, nowMs);
    if (!n.synced) return this.#wantSync(n, nowMs); // the snapshot will cover it
    if (msg.seq <= n.seq) return 'ok'; // a duplicate or an old one
    if (msg.seq !== n.seq + 1) {
      n.synced = false;
      return this.#wantSync(n, nowMs);
    }
    n.seq = msg.seq;
    for (const [group, count] of msg.groups) this.#set(n, group, count);
    return 'ok';
  }

  /** A part of a snapshot this node asked for. */
  onSnapshot(msg: SnapshotMessage, nowMs: number): MembershipAction {
    if (msg.node === this.#self) return 'ok';
    const n = this.#nodes.get(msg.node);
    if (n === undefined || n.epoch !== msg.epoch || n.synced) return 'ok'; // not asked, or outdated
    n.lastSeenMs = nowMs;
    if (msg.part === 0) n.staging = { epoch: msg.epoch, seq: msg.seq, nextPart: 0, groups: new Map() };
    const st = n.staging;
    if (st === null || st.nextPart !== msg.part || st.seq !== msg.seq) {
      // A part went missing: ask again.
      n.staging = null;
      n.syncRequestedMs = -Infinity;
      return this.#wantSync(n, nowMs);
    }
    for (const [group, count] of msg.groups) if (count > 0) st.groups.set(group, count);
    st.nextPart++;
    if (!msg.last) return 'ok';
    n.staging = null;
    for (const group of [...n.groups.keys()]) if (!st.groups.has(group)) this.#set(n, group, 0);
    for (const [group, count] of st.groups) this.#set(n, group, count);
    n.seq = st.seq;
    n.synced = true;
    return 'ok';
  }

  /** A node left. Returns whether it was known. */
  onBye(msg: ByeMessage): boolean {
    const n = this.#nodes.get(msg.node);
    if (n === undefined || (msg.epoch !== undefined && msg.epoch !== n.epoch)) return false;
    this.#drop(n);
    return true;
  }

  /** Drops the nodes not heard for too long; returns their ids. */
  expire(nowMs: number): string[] {
    const lost: string[] = [];
    for (const n of this.#nodes.values()) {
      if (nowMs - n.lastSeenMs > CLUSTER_NODE_LOST_AFTER_BEATS * n.intervalMs) {
        lost.push(n.node);
        this.#drop(n);
      }
    }
    return lost;
  }

  /** Nodes still waiting for a snapshot whose last request is older than their interval: ask again. */
  syncsDue(nowMs: number): string[] {
    const due: string[] = [];
    for (const n of this.#nodes.values()) if (this.#wantSync(n, nowMs) === 'sync') due.push(n.node);
    return due;
  }

  /** Forgets every node. */
  clear(): void {
    for (const n of [...this.#nodes.values()]) this.#drop(n);
  }

  /** The node's state, created or reset (another epoch: a restarted node) as needed. */
  #meet(node: string, epoch: number, seqIfNew: number, nowMs: number): NodeState {
    let n = this.#nodes.get(node);
    if (n !== undefined && n.epoch !== epoch) {
      this.#drop(n);
      n = undefined;
    }
    if (n === undefined) {
      n = {
        node,
        epoch,
        seq: 0,
        // A node whose announcements so far are none (seq 0) has an empty table: nothing to ask.
        synced: seqIfNew === 0,
        lastSeenMs: nowMs,
        intervalMs: this.#defaultIntervalMs,
        syncRequestedMs: -Infinity,
        groups: new Map(),
        members: 0,
        staging: null,
      };
      this.#nodes.set(node, n);
    }
    n.lastSeenMs = nowMs;
    return n;
  }

  #wantSync(n: NodeState, nowMs: number): MembershipAction {
    if (n.synced || nowMs - n.syncRequestedMs < n.intervalMs) return 'ok';
    n.syncRequestedMs = nowMs;
    return 'sync';
  }

  #set(n: NodeState, group: string, count: number): void {
    const before = n.groups.get(group) ?? 0;
    if (before === count) return;
    if (count === 0) n.groups.delete(group);
    else n.groups.set(group, count);
    n.members += count - before;
    const total = (this.#totals.get(group) ?? 0) + count - before;
    if (total === 0) this.#totals.delete(group);
    else this.#totals.set(group, total);
    this.#onTotalChanged(group, total);
  }

  #drop(n: NodeState): void {
    this.#nodes.delete(n.node);
    for (const group of [...n.groups.keys()]) this.#set(n, group, 0);
  }
}

/** Splits `entries` into chunks whose encoding stays under about `maxBytes` each (at least one entry per chunk). */
export function chunkGroupCounts(entries: Iterable<GroupCount>, maxBytes: number, sizeOf: (e: GroupCount) => number): GroupCount[][] {
  const chunks: GroupCount[][] = [];
  let chunk: GroupCount[] = [];
  let bytes = 0;
  for (const e of entries) {
    const b = sizeOf(e);
    if (chunk.length > 0 && bytes + b > maxBytes) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(e);
    bytes += b;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
