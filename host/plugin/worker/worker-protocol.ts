/**
 * Messages between the I/O thread and a plugin worker (worker-runtime.ts ↔ worker-thread.ts).
 *
 * Calls and their effects cross in batches: every call queued during an event-loop turn, encoded
 * back to back, and every effect (frames sent, closes, log lines, connect answers) of the whole
 * batch. Per message that costs ≈ 1.4 µs in batches of 64 against ≈ 74 µs for a lone `postMessage`
 * (docs/plugin-runtime.md). The bytes travel through two `SharedArrayBuffer`s made per worker
 * (`InitMessage.requests`, `.results`), one writer each, so no message carries them and nothing is
 * cloned: the I/O thread writes a batch only while none is in flight, and the worker writes a result
 * only while it runs one. A batch or result too large for its buffer (one big record) travels in
 * the message instead. Each side copies the bytes out of shared memory in one piece before reading
 * records (copies out of shared memory at odd offsets cost ≈ 3 × a plain copy), and no fresh buffer
 * is made per batch: both a fresh 256 KiB buffer and a structured clone of one cost more than the
 * copies themselves (#15, docs/plugin-runtime.md "Measured facts").
 *
 * Record layout, both directions: u8 kind, u32 channel, u32 length, then `length` bytes.
 *
 * A small `SharedArrayBuffer` (`CTL_*` slots) lets the I/O thread's watchdog see which call the
 * worker is in without any message: the worker bumps `CTL_SEQ` and sets `CTL_IN_CALL` around each
 * call, so a stuck call is one whose sequence number stops moving.
 */
import type { StringEncoding } from '../load/component-reader.js';
import { TRANSPORT_KINDS, type PeerInfo } from '../world.js';

/** Call kinds (I/O thread → worker). */
export const CALL_CONNECT = 1;
export const CALL_MSG = 2;
export const CALL_BROKEN = 3;
export const CALL_STOP = 4;
export const CALL_SNAPSHOT = 5;
export const CALL_RESTORE = 6;
/** Export names by call kind, for logs. */
export const CALL_EXPORTS = [
  '',
  'handle-connect',
  'handle-msg',
  'handle-broken',
  'stop',
  'snapshot',
  'restore',
  'start',
  'adopt',
  'handle-timer',
  'group-mirror',
  'data-mirror',
];
/** Pseudo call kind for `start`, seen only in `CTL_KIND`. */
export const CALL_START = 7;
/** Tells the worker's channel mirror that a channel is live, without calling the plugin (after `restore`). */
export const CALL_ADOPT = 8;
/**
 * `handle-timer`; body: token u64 LE, arm u32 LE (the tag of the arming this firing belongs to: the
 * worker delivers it only while that arming is the token's current one).
 */
export const CALL_TIMER = 9;
/**
 * Replaces the worker's group mirror with the I/O thread's membership (after a restart or a swap),
 * without calling the plugin. Body: `encodeMemberships`.
 */
export const CALL_GROUP_MIRROR = 10;
/**
 * Replaces the worker's channel-data mirror with the I/O thread's `ChannelDataStore` (after a
 * restart or a swap, before the resumed connects), without calling the plugin. Body:
 * `encodeChannelData`.
 */
export const CALL_DATA_MIRROR = 11;

/** Effect kinds (worker → I/O thread). */
export const EFFECT_SEND = 1;
export const EFFECT_CLOSE = 2;
export const EFFECT_LOG = 3;
export const EFFECT_CONNECT_RESULT = 4;
export const EFFECT_AUTHENTICATE = 5;
export const EFFECT_SNAPSHOT = 6;
/** `timer-set`: body token u64 LE, delay-ms u32 LE, repeat u8, arm u32 LE (the worker's tag for this arming). */
export const EFFECT_TIMER_SET = 7;
/** `timer-cancel`: body token u64 LE. */
export const EFFECT_TIMER_CANCEL = 8;

/** `group-join`: channel = the member, body = group name (UTF-8). */
export const EFFECT_GROUP_JOIN = 9;
/** `group-leave`: channel = the member, body = group name (UTF-8). */
export const EFFECT_GROUP_LEAVE = 10;
/** `group-send`: channel = `except`, body = u16 LE name length, name (UTF-8), payload. */
export const EFFECT_GROUP_SEND = 11;
/** `upstream-open`: channel = the reserved handle it took, body = u16 LE service length, service, key (UTF-8). */
export const EFFECT_UPSTREAM_OPEN = 12;
/**
 * A `channel-send` would have passed `maxOutboundBytes` for the channel (what the I/O thread
 * reported queued plus what this batch queued): it returned false; close the channel
 * `slow-consumer`, as inline. No body.
 */
export const EFFECT_OVERFLOW = 13;
/** `channel-set-data` (checked in the worker: within the limit, a channel the instance knows): body = the data (empty clears). */
export const EFFECT_SET_DATA = 14;

/** Int32 slots of the control buffer. */
export const CTL_SEQ = 0;
export const CTL_IN_CALL = 1;
export const CTL_CHANNEL = 2;
export const CTL_KIND = 3;
export const CTL_SLOTS = 4;

export const RECORD_HEADER_BYTES = 9;
/** Bodies up to this many bytes are copied into a record byte by byte (no view made for the copy). */
const SMALL_COPY_BYTES = 64;

/** First message: what to instantiate. */
export interface InitMessage {
  readonly type: 'init';
  readonly module: WebAssembly.Module;
  readonly stringEncoding: Exclude<StringEncoding, 'latin1+utf16'>;
  readonly hasPostStart: boolean;
  readonly stateful: boolean;
  readonly hasPostSnapshot: boolean;
  /** Whether the plugin exports `handle-timer` (world `timed-plugin`). */
  readonly timed: boolean;
  readonly name: string;
  readonly config: string;
  readonly maxFrameBytes: number;
  readonly maxOutboundBytes: number;
  /** Largest channel data per channel (`--channel-data-max-bytes`). */
  readonly maxChannelDataBytes: number;
  readonly callFuel: number;
  readonly ctl: SharedArrayBuffer;
  /** Where the I/O thread writes each batch's calls (`BatchMessage.length`); the worker only reads it. */
  readonly requests: SharedArrayBuffer;
  /** Where the worker writes each batch's effects (`ResultMessage.length`); the I/O thread only reads it. */
  readonly results: SharedArrayBuffer;
  /** Configured upstream service names (`upstream-open` refuses others in the worker). */
  readonly upstreamServices: readonly string[];
  /** Channel handles reserved for `upstream-open` (see `BatchMessage.handles`). */
  readonly handles: readonly number[];
  /** With a cluster: every group's member count on the other nodes (see `BatchMessage.remoteSizes`). */
  readonly remoteSizes: readonly (readonly [string, number])[];
}

/** Calls to run, in order. */
export interface BatchMessage {
  readonly type: 'batch';
  readonly id: number;
  /** Bytes of calls at the start of `InitMessage.requests` (0 when they are in `bytes`). */
  readonly length: number;
  /** The calls, only when they did not fit in `InitMessage.requests` (one record above its size). */
  readonly bytes?: Uint8Array;
  /** More reserved channel handles for `upstream-open`, topping the worker's pool up. */
  readonly handles: readonly number[];
  /**
   * Outbound bytes queued on the I/O thread when the batch was posted, for the channels that had
   * any among those the worker sends to: channel, bytes, channel, bytes, … (`channel-send` counts
   * them against `maxOutboundBytes`).
   */
  readonly queued: readonly number[];
  /**
   * With a cluster (#12): groups whose member count on the other nodes changed, with the new
   * count, applied before the batch runs (`group-size` and `group-send` add them to the mirror's).
   */
  readonly remoteSizes?: readonly (readonly [string, number])[];
}

/** Drop the failed instance and start a fresh one. */
export interface RestartMessage {
  readonly type: 'restart';
}

export type ToWorker = InitMessage | BatchMessage | RestartMessage;

/** An error as it crosses threads. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
}

/** An instance was created and `start` returned (`error` is its refusal or trap). */
export interface StartedMessage {
  readonly type: 'started';
  readonly error: WireError | null;
  /** True when `start` itself returned an error (a refusal), false for a trap. */
  readonly refused: boolean;
  readonly memoryBytes: number;
}

/**
 * A batch ran: up to `failedAt` when a call trapped (then that call's error is in `error`), or up
 * to `restOffset` when its effects reached `MAX_WORKER_BATCH_EFFECT_BYTES` first.
 */
export interface ResultMessage {
  readonly type: 'result';
  readonly id: number;
  /** Bytes of effects at the start of `InitMessage.results` (0 when they are in `effects`). */
  readonly length: number;
  /** The effects, only when they did not fit in `InitMessage.results` (transferred). */
  readonly effects?: Uint8Array;
  /** Index of the call that trapped, -1 when every call returned. */
  readonly failedAt: number;
  /**
   * Byte offset in the batch of the first call not run because the effects were full (the I/O
   * thread queues those calls again, first); the batch's length when every call ran.
   */
  readonly restOffset: number;
  /** Calls not run because the effects were full (0 when every call ran). */
  readonly restCount: number;
  readonly error: WireError | null;
  readonly memoryBytes: number;
  /** Sampled call durations of the batch (metrics, #11): pairs of call kind and seconds; usually empty. */
  readonly timings: readonly number[];
}

export type FromWorker = StartedMessage | ResultMessage;

/** Appends records to a growing byte buffer. */
export class RecordWriter {
  #buf = Buffer.allocUnsafe(4096);
  #pos = 0;
  count = 0;

  get length(): number {
    return this.#pos;
  }

  /** Appends one record; `body` may be a sub-range of a larger buffer. */
  push(kind: number, channel: number, body?: Uint8Array, start = 0, end = body?.length ?? 0): void {
    const len = end - start;
    this.#reserve(RECORD_HEADER_BYTES + len);
    const b = this.#buf;
    const p = this.#pos;
    b[p] = kind;
    b.writeUInt32LE(channel >>> 0, p + 1);
    b.writeUInt32LE(len, p + 5);
    const at = p + RECORD_HEADER_BYTES;
    if (len > SMALL_COPY_BYTES) b.set(body!.subarray(start, end), at);
    else if (len > 0) {
      // A small body byte by byte: cheaper than the view `set` needs (most frames are small).
      const src = body!;
      for (let i = 0; i < len; i++) b[at + i] = src[start + i];
    }
    this.#pos = at + len;
    this.count++;
  }

  /** Appends a record whose body is a UTF-8 string. */
  pushString(kind: number, channel: number, text: string): void {
    const len = Buffer.byteLength(text);
    this.#reserve(RECORD_HEADER_BYTES + len);
    const p = this.#pos;
    this.#buf[p] = kind;
    this.#buf.writeUInt32LE(channel >>> 0, p + 1);
    this.#buf.writeUInt32LE(len, p + 5);
    this.#buf.write(text, p + RECORD_HEADER_BYTES, len, 'utf8');
    this.#pos = p + RECORD_HEADER_BYTES + len;
    this.count++;
  }

  /**
   * Copies out the first records, whole, up to `maxBytes` in all (at least one record); the rest
   * stays, moved to the front. All of them when they fit.
   */
  takeUpTo(maxBytes: number): Uint8Array {
    if (this.#pos <= maxBytes) return this.take();
    const b = this.#buf;
    let p = 0;
    let n = 0;
    while (p < this.#pos) {
      const next = p + RECORD_HEADER_BYTES + b.readUInt32LE(p + 5);
      if (n > 0 && next > maxBytes) break;
      p = next;
      n++;
    }
    const out = new Uint8Array(b.subarray(0, p));
    b.copyWithin(0, p, this.#pos);
    this.#pos -= p;
    this.count -= n;
    return out;
  }

  /**
   * Copies the first records, whole, up to `maxBytes` in all and as many as fit in `target`, into
   * `target` from offset 0; the rest stays, moved to the front. Returns the bytes copied: 0 when the
   * writer is empty or its first record alone does not fit in `target` (the caller then takes it
   * with `takeUpTo`).
   */
  takeInto(target: Uint8Array, maxBytes: number): number {
    const limit = Math.min(maxBytes, target.length);
    const b = this.#buf;
    let p = 0;
    let n = 0;
    if (this.#pos <= limit) {
      p = this.#pos;
      n = this.count;
    } else {
      while (p < this.#pos) {
        const next = p + RECORD_HEADER_BYTES + b.readUInt32LE(p + 5);
        if (next > limit) break;
        p = next;
        n++;
      }
      // Over `maxBytes` but within `target`: one record is always taken, as `takeUpTo` does.
      if (n === 0 && p + RECORD_HEADER_BYTES + b.readUInt32LE(5) <= target.length) {
        p = RECORD_HEADER_BYTES + b.readUInt32LE(5);
        n = 1;
      }
    }
    if (n === 0) return 0;
    target.set(b.subarray(0, p), 0);
    if (p < this.#pos) b.copyWithin(0, p, this.#pos);
    this.#pos -= p;
    this.count -= n;
    if (this.#pos === 0 && this.#buf.length > 1024 * 1024) this.#buf = Buffer.allocUnsafe(4096);
    return p;
  }

  /** Appends already encoded records (`count` of them). */
  pushRaw(bytes: Uint8Array, count: number): void {
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
    this.count += count;
  }

  /** The records so far, copied out; the writer is then empty. */
  take(): Uint8Array {
    // A plain Uint8Array over its own ArrayBuffer (never Buffer's shared pool): it can be transferred.
    const out = new Uint8Array(this.#buf.subarray(0, this.#pos));
    this.#pos = 0;
    this.count = 0;
    if (this.#buf.length > 1024 * 1024) this.#buf = Buffer.allocUnsafe(4096);
    return out;
  }

  #reserve(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#pos + n));
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }
}

/**
 * One decoded record: its body is `bytes[start, end)`. `body` makes a view of it on each read; hot
 * paths hand the range on instead (a view per record was ≈ 9 % of the CPU of a 64 B echo).
 */
export class RecordView {
  kind = 0;
  channel = 0;
  start = 0;
  end = 0;
  constructor(readonly bytes: Buffer) {}

  get body(): Buffer {
    return this.bytes.subarray(this.start, this.end);
  }
}

/**
 * Calls `fn` for each record of `bytes`, in order, with its index and the byte offset just after
 * it; stops early when `fn` returns false.
 */
export function forEachRecord(bytes: Uint8Array, fn: (r: RecordView, index: number, next: number) => boolean | void): void {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const view = new RecordView(b);
  let p = 0;
  let i = 0;
  while (p < b.length) {
    view.kind = b[p];
    view.channel = b.readUInt32LE(p + 1);
    const len = b.readUInt32LE(p + 5);
    view.start = p + RECORD_HEADER_BYTES;
    view.end = view.start + len;
    p = view.end;
    if (fn(view, i++, p) === false) return;
  }
}

/** Records in `bytes` from byte offset `start` (a record boundary) to the end. */
export function countRecords(bytes: Uint8Array, start = 0): number {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let n = 0;
  for (let p = start; p < b.length; p += RECORD_HEADER_BYTES + b.readUInt32LE(p + 5)) n++;
  return n;
}

/** Bits of the flags byte of a CALL_CONNECT body. */
export const PEER_RESUMED = 1;
export const PEER_SECURE = 2;

/**
 * Peer info as a CALL_CONNECT body: u16 port, u8 transport, u8 flags (`PEER_RESUMED`,
 * `PEER_SECURE`), address (UTF-8). `resumed` overrides `peer.resumed`.
 */
export function encodePeer(peer: PeerInfo, resumed = peer.resumed): Buffer {
  const addr = Buffer.from(peer.address, 'utf8');
  const out = Buffer.allocUnsafe(4 + addr.length);
  out.writeUInt16LE(peer.port, 0);
  out[2] = TRANSPORT_KINDS.indexOf(peer.transport);
  out[3] = (resumed ? PEER_RESUMED : 0) | (peer.secure ? PEER_SECURE : 0);
  addr.copy(out, 4);
  return out;
}

/** Reads a CALL_CONNECT body written by `encodePeer`. */
export function decodePeer(body: Buffer): PeerInfo {
  return {
    port: body.readUInt16LE(0),
    transport: TRANSPORT_KINDS[body[2]],
    secure: (body[3] & PEER_SECURE) !== 0,
    resumed: (body[3] & PEER_RESUMED) !== 0,
    address: body.toString('utf8', 4),
  };
}

/** Encodes u16 LE length of `a`, `a` (UTF-8), then `b` (UTF-8 string or bytes `b[start, end)`). */
export function encodeNamed(a: string, b: string | Uint8Array, start = 0, end = typeof b === 'string' ? 0 : b.length): Buffer {
  const aBytes = Buffer.from(a, 'utf8');
  const bBytes = typeof b === 'string' ? Buffer.from(b, 'utf8') : b.subarray(start, end);
  const out = Buffer.allocUnsafe(2 + aBytes.length + bBytes.length);
  out.writeUInt16LE(aBytes.length, 0);
  aBytes.copy(out, 2);
  out.set(bBytes, 2 + aBytes.length);
  return out;
}

/** Splits an `encodeNamed` body into the leading string and the rest. */
export function decodeNamed(body: Buffer): { name: string; rest: Buffer } {
  const len = body.readUInt16LE(0);
  return { name: body.toString('utf8', 2, 2 + len), rest: body.subarray(2 + len) };
}

/** Group memberships as a `CALL_GROUP_MIRROR` body: per group u16 LE name length, name, u32 LE count, u32 LE members. */
export function encodeMemberships(groups: Iterable<readonly [string, Iterable<number>]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, members] of groups) {
    const ids = [...members];
    const n = Buffer.from(name, 'utf8');
    const b = Buffer.allocUnsafe(2 + n.length + 4 + ids.length * 4);
    b.writeUInt16LE(n.length, 0);
    n.copy(b, 2);
    let p = 2 + n.length;
    b.writeUInt32LE(ids.length, p);
    for (const id of ids) b.writeUInt32LE(id >>> 0, (p += 4));
    // (each id lands 4 bytes after the previous field: count at p₀, ids at p₀+4, p₀+8, …)
    parts.push(b);
  }
  return Buffer.concat(parts);
}

/** Calls `fn(group, channel)` for each membership of an `encodeMemberships` body. */
export function forEachMembership(body: Buffer, fn: (group: string, channel: number) => void): void {
  let p = 0;
  while (p < body.length) {
    const len = body.readUInt16LE(p);
    const name = body.toString('utf8', p + 2, p + 2 + len);
    p += 2 + len;
    const count = body.readUInt32LE(p);
    p += 4;
    for (let i = 0; i < count; i++, p += 4) fn(name, body.readUInt32LE(p));
  }
}

/** Channel data as a `CALL_DATA_MIRROR` body: per channel u32 LE handle, u32 LE length, the bytes. */
export function encodeChannelData(entries: Iterable<readonly [number, Uint8Array]>): Buffer {
  const parts: Buffer[] = [];
  for (const [channel, data] of entries) {
    const head = Buffer.allocUnsafe(8);
    head.writeUInt32LE(channel >>> 0, 0);
    head.writeUInt32LE(data.length, 4);
    parts.push(head, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }
  return Buffer.concat(parts);
}

/** Calls `fn(channel, data)` for each entry of an `encodeChannelData` body (`data` is a view into it). */
export function forEachChannelData(body: Buffer, fn: (channel: number, data: Buffer) => void): void {
  let p = 0;
  while (p + 8 <= body.length) {
    const channel = body.readUInt32LE(p);
    const len = body.readUInt32LE(p + 4);
    fn(channel, body.subarray(p + 8, p + 8 + len));
    p += 8 + len;
  }
}

/** Serialises an error for `postMessage`. */
export function toWireError(err: unknown): WireError {
  if (err instanceof Error) return { name: err.name, message: err.message, code: (err as { code?: string }).code };
  return { name: 'Error', message: String(err) };
}
