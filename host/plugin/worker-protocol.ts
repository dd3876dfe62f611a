/**
 * Messages between the I/O thread and a plugin worker (worker-runtime.ts ↔ worker.ts).
 *
 * Calls and their effects cross in batches: one `postMessage` carries every call queued during an
 * event-loop turn, encoded back to back in one byte buffer, and one message carries back every
 * effect (frames sent, closes, log lines, connect answers) of the whole batch. Per message that
 * costs ≈ 1.4 µs in batches of 64 against ≈ 74 µs for a lone `postMessage` (toolchain.md).
 *
 * Record layout, both directions: u8 kind, u32 channel, u32 length, then `length` bytes.
 *
 * A small `SharedArrayBuffer` (`CTL_*` slots) lets the I/O thread's watchdog see which call the
 * worker is in without any message: the worker bumps `CTL_SEQ` and sets `CTL_IN_CALL` around each
 * call, so a stuck call is one whose sequence number stops moving.
 */
import type { StringEncoding } from './component-reader.js';

/** Call kinds (I/O thread → worker). */
export const CALL_CONNECT = 1;
export const CALL_MSG = 2;
export const CALL_BROKEN = 3;
export const CALL_STOP = 4;
export const CALL_SNAPSHOT = 5;
export const CALL_RESTORE = 6;
/** Export names by call kind, for logs. */
export const CALL_EXPORTS = ['', 'handle-connect', 'handle-msg', 'handle-broken', 'stop', 'snapshot', 'restore', 'start', 'adopt', 'handle-timer'];
/** Pseudo call kind for `start`, seen only in `CTL_KIND`. */
export const CALL_START = 7;
/** Tells the worker's channel mirror that a channel is live, without calling the plugin (after `restore`). */
export const CALL_ADOPT = 8;
/** `handle-timer`; the body is the token, u64 LE. */
export const CALL_TIMER = 9;

/** Effect kinds (worker → I/O thread). */
export const EFFECT_SEND = 1;
export const EFFECT_CLOSE = 2;
export const EFFECT_LOG = 3;
export const EFFECT_CONNECT_RESULT = 4;
export const EFFECT_AUTHENTICATE = 5;
export const EFFECT_SNAPSHOT = 6;
/** `timer-set`: body token u64 LE, delay-ms u32 LE, repeat u8. */
export const EFFECT_TIMER_SET = 7;
/** `timer-cancel`: body token u64 LE. */
export const EFFECT_TIMER_CANCEL = 8;

/** Int32 slots of the control buffer. */
export const CTL_SEQ = 0;
export const CTL_IN_CALL = 1;
export const CTL_CHANNEL = 2;
export const CTL_KIND = 3;
export const CTL_SLOTS = 4;

export const RECORD_HEADER_BYTES = 9;

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
  readonly callFuel: number;
  readonly ctl: SharedArrayBuffer;
}

/** Calls to run, in order. */
export interface BatchMessage {
  readonly type: 'batch';
  readonly id: number;
  readonly bytes: Uint8Array;
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

/** A batch ran, up to `failedAt` when a call trapped (then that call's error is in `error`). */
export interface ResultMessage {
  readonly type: 'result';
  readonly id: number;
  readonly effects: Uint8Array;
  /** Index of the call that trapped, -1 when every call returned. */
  readonly failedAt: number;
  readonly error: WireError | null;
  readonly memoryBytes: number;
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
    if (len > 0) b.set(body!.subarray(start, end), p + RECORD_HEADER_BYTES);
    this.#pos = p + RECORD_HEADER_BYTES + len;
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

/** One decoded record: a view into the batch. */
export interface RecordView {
  kind: number;
  channel: number;
  body: Buffer;
}

/** Calls `fn` for each record of `bytes`, in order; stops early when `fn` returns false. */
export function forEachRecord(bytes: Uint8Array, fn: (r: RecordView, index: number) => boolean | void): void {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const view: RecordView = { kind: 0, channel: 0, body: b };
  let p = 0;
  let i = 0;
  while (p < b.length) {
    view.kind = b[p];
    view.channel = b.readUInt32LE(p + 1);
    const len = b.readUInt32LE(p + 5);
    view.body = b.subarray(p + RECORD_HEADER_BYTES, p + RECORD_HEADER_BYTES + len);
    p += RECORD_HEADER_BYTES + len;
    if (fn(view, i++) === false) return;
  }
}

/** Peer info as a CALL_CONNECT body: u16 port, u8 transport, u8 resumed, address (UTF-8). */
export function encodePeer(port: number, transport: number, resumed: boolean, address: string): Buffer {
  const addr = Buffer.from(address, 'utf8');
  const out = Buffer.allocUnsafe(4 + addr.length);
  out.writeUInt16LE(port, 0);
  out[2] = transport;
  out[3] = resumed ? 1 : 0;
  addr.copy(out, 4);
  return out;
}

/** Serialises an error for `postMessage`. */
export function toWireError(err: unknown): WireError {
  if (err instanceof Error) return { name: err.name, message: err.message, code: (err as { code?: string }).code };
  return { name: 'Error', message: String(err) };
}
