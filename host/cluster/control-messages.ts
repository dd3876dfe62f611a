/**
 * Broker-to-broker control messages (presence, membership deltas and snapshots, sync requests,
 * bye): JSON bodies on the `pb.<cluster>.v1.*` subjects, encoded and checked here. Pure: bytes
 * in, a typed message or a `ClusterMessageError` out; the caller drops and counts bad ones.
 *
 * JSON checked by hand rather than a schema library: a delta carries up to thousands of entries
 * per event-loop turn while clients log in, and a generic validator allocates per entry; the shapes
 * are five small records. Group sends carry no envelope at all (the subject names the group, the
 * body is the frame), so nothing here is on the per-message path.
 */
import { ClusterMessageError } from '../errors.js';
import { isValidGroupName } from '../host-api/groups.js';
import { CLUSTER_PROTOCOL_VERSION, isClusterToken } from './subjects.js';

/** A group and how many members one node has in it (0: it has none any more). */
export type GroupCount = readonly [group: string, count: number];

/** A node is alive: sent every presence interval. */
export interface PresenceMessage {
  readonly t: 'presence';
  readonly node: string;
  /** Incarnation of the node (a restarted node with the same id has another one). */
  readonly epoch: number;
  /** Sequence number of the node's last membership delta (0: none yet). */
  readonly seq: number;
  /** The node's presence interval, ms: it is lost after `CLUSTER_NODE_LOST_AFTER_BEATS` of them. */
  readonly intervalMs: number;
}

/** Groups whose member count changed on a node, with their new counts. */
export interface MembersMessage {
  readonly t: 'members';
  readonly node: string;
  readonly epoch: number;
  /** One more than the node's previous delta. */
  readonly seq: number;
  readonly groups: readonly GroupCount[];
}

/** One part of a node's full membership table, as of delta `seq` (answer to a sync request). */
export interface SnapshotMessage {
  readonly t: 'snapshot';
  readonly node: string;
  readonly epoch: number;
  readonly seq: number;
  /** Parts are numbered from 0 and sent in order; `last` ends the snapshot. */
  readonly part: number;
  readonly last: boolean;
  readonly groups: readonly GroupCount[];
}

/** `node` asks for a snapshot (it missed deltas, or has just met the receiver). */
export interface SyncMessage {
  readonly t: 'sync';
  readonly node: string;
}

/** `node` leaves the cluster (its memberships go at once). `epoch` absent: whatever incarnation. */
export interface ByeMessage {
  readonly t: 'bye';
  readonly node: string;
  readonly epoch?: number;
}

export type ControlMessage = PresenceMessage | MembersMessage | SnapshotMessage | SyncMessage | ByeMessage;

/** Encodes `msg` with the protocol version. */
export function encodeControl(msg: ControlMessage): Uint8Array {
  return Buffer.from(JSON.stringify({ v: CLUSTER_PROTOCOL_VERSION, ...msg }), 'utf8');
}

/** Bytes `entry` adds to an encoded groups array (an upper bound, for cutting messages). */
export function groupCountBytes(entry: GroupCount): number {
  // ["name",count], with every byte of the name possibly escaped as \uXXXX.
  return entry[0].length * 6 + 16;
}

/**
 * Decodes a control message expected to be of kind `kind`.
 * @throws {ClusterMessageError} not JSON, another protocol version, another kind, or a field out of its domain.
 */
export function decodeControl<K extends ControlMessage['t']>(bytes: Uint8Array, kind: K): Extract<ControlMessage, { t: K }> {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    throw new ClusterMessageError(kind, 'not JSON');
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ClusterMessageError(kind, 'not a JSON object');
  const m = raw as Record<string, unknown>;
  if (m.v !== CLUSTER_PROTOCOL_VERSION) throw new ClusterMessageError(kind, `protocol version ${String(m.v)}, expected ${CLUSTER_PROTOCOL_VERSION}`);
  if (m.t !== kind) throw new ClusterMessageError(kind, `a '${String(m.t)}' message`);
  if (!isClusterToken(m.node)) throw new ClusterMessageError(kind, 'no valid node id');
  return decodeFields(kind, m) as Extract<ControlMessage, { t: K }>;
}

function decodeFields(kind: ControlMessage['t'], m: Record<string, unknown>): ControlMessage {
  const node = m.node as string;
  switch (kind) {
    case 'presence': {
      const epoch = uint(kind, m, 'epoch', 0xffff_ffff);
      const seq = uint(kind, m, 'seq', Number.MAX_SAFE_INTEGER);
      const intervalMs = uint(kind, m, 'intervalMs', 3_600_000);
      if (intervalMs === 0) throw new ClusterMessageError(kind, 'intervalMs 0');
      return { t: kind, node, epoch, seq, intervalMs };
    }
    case 'members':
      return {
        t: kind,
        node,
        epoch: uint(kind, m, 'epoch', 0xffff_ffff),
        seq: uint(kind, m, 'seq', Number.MAX_SAFE_INTEGER),
        groups: groupCounts(kind, m.groups),
      };
    case 'snapshot': {
      const epoch = uint(kind, m, 'epoch', 0xffff_ffff);
      const seq = uint(kind, m, 'seq', Number.MAX_SAFE_INTEGER);
      const part = uint(kind, m, 'part', 0xffff_ffff);
      if (typeof m.last !== 'boolean') throw new ClusterMessageError(kind, "'last' is not a boolean");
      return { t: kind, node, epoch, seq, part, last: m.last, groups: groupCounts(kind, m.groups) };
    }
    case 'sync':
      return { t: kind, node };
    case 'bye':
      return { t: kind, node, epoch: m.epoch === undefined ? undefined : uint(kind, m, 'epoch', 0xffff_ffff) };
  }
}

function uint(kind: string, m: Record<string, unknown>, field: string, max: number): number {
  const v = m[field];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new ClusterMessageError(kind, `'${field}' is not an integer from 0 to ${max}`);
  return v;
}

function groupCounts(kind: string, value: unknown): GroupCount[] {
  if (!Array.isArray(value)) throw new ClusterMessageError(kind, "'groups' is not an array");
  for (const e of value) {
    if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || !isValidGroupName(e[0])) {
      throw new ClusterMessageError(kind, "a 'groups' entry is not [group name, count]");
    }
    const n = e[1] as unknown;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffff_ffff)
      throw new ClusterMessageError(kind, `group ${JSON.stringify(e[0])} has a bad count`);
  }
  return value as GroupCount[];
}
