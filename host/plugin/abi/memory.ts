/**
 * Access to a plugin's linear memory from the host, with the bounds checks the canonical ABI needs.
 * Every pointer and length that comes from the plugin goes through here: out-of-bounds values raise
 * `PluginBadPointerError` inside the host import, which surfaces as the plugin's own trap.
 */
import { PluginBadPointerError } from '../../errors.js';
import type { StringEncoding } from '../load/component-reader.js';

const utf16Decoder = new TextDecoder('utf-16le');

/** The linear memory of one plugin instance. */
export class PluginMemory {
  #memory: WebAssembly.Memory | undefined;
  /**
   * A Buffer over the whole memory. `memory.grow` detaches the old ArrayBuffer (its views drop to
   * length 0), so a range check that fails re-reads `memory.buffer` once before refusing.
   */
  #buf: Buffer = Buffer.alloc(0);
  #u8: Uint8Array = new Uint8Array(0);
  readonly #encoding: 'utf8' | 'utf16';
  /** The instance's `cabi_realloc`, for lists the host returns (`channel-get-data`). */
  #realloc: ((oldPtr: number, oldSize: number, align: number, newSize: number) => number) | undefined;

  constructor(encoding: Exclude<StringEncoding, 'latin1+utf16'>) {
    this.#encoding = encoding;
  }

  /** Attaches the instance's exported memory and `cabi_realloc` (imports are built before the instance exists). */
  bind(memory: WebAssembly.Memory, realloc?: (oldPtr: number, oldSize: number, align: number, newSize: number) => number): void {
    this.#memory = memory;
    this.#realloc = realloc;
    this.#buf = Buffer.from(memory.buffer);
    this.#u8 = new Uint8Array(memory.buffer);
  }

  /**
   * The memory as a plain Uint8Array, checked to contain `[ptr, ptr + len)`: the hot path's view.
   * A plain Uint8Array's `subarray` costs half of a Buffer's (no Buffer subclass to construct), and
   * the message path takes one per frame.
   * @throws {PluginBadPointerError}
   */
  bytes(ptr: number, len: number): Uint8Array {
    const u8 = this.#u8;
    if (ptr + len <= u8.length) return u8;
    this.#refresh(ptr, len);
    return this.#u8;
  }

  /**
   * The memory as a Buffer, checked to contain `[ptr, ptr + len)`. Pointers arrive as signed i32
   * and must be made unsigned by the caller (`>>> 0`).
   * @throws {PluginBadPointerError}
   */
  range(ptr: number, len: number): Buffer {
    const buf = this.#buf;
    if (ptr + len <= buf.length) return buf;
    return this.#refresh(ptr, len);
  }

  #refresh(ptr: number, len: number): Buffer {
    if (this.#memory !== undefined && this.#buf.buffer !== this.#memory.buffer) {
      this.#buf = Buffer.from(this.#memory.buffer);
      this.#u8 = new Uint8Array(this.#memory.buffer);
    }
    if (ptr + len > this.#buf.length) throw new PluginBadPointerError(ptr, len, this.#buf.length);
    return this.#buf;
  }

  /** Reads a string the plugin passed as (ptr, len); len counts code units of the encoding. */
  readString(ptr: number, len: number, maxBytes: number): string {
    if (this.#encoding === 'utf8') {
      const buf = this.range(ptr, len);
      return buf.toString('utf8', ptr, ptr + Math.min(len, maxBytes));
    }
    if ((ptr & 1) !== 0) throw new PluginBadPointerError(ptr, len * 2, this.#buf.length);
    const buf = this.range(ptr, len * 2);
    return utf16Decoder.decode(buf.subarray(ptr, ptr + Math.min(len * 2, maxBytes * 2)));
  }

  /**
   * Returns `data` as a `list<u8>` through the return area at `retptr` (canonical ABI, "Host calls
   * that return a list" in wit/plugin.wit): the bytes are copied into a block the plugin's
   * `cabi_realloc(0, 0, 1, len)` hands out (also for length 0), its pointer written at `retptr`
   * and the length at `retptr + 4`. Hand-written: `channel-get-data` is a per-frame call (≤ 100 ns, #13).
   * @throws {PluginBadPointerError} for a return area or block outside memory, or a return area not 4-aligned.
   */
  returnList(retptr: number, data: Uint8Array): void {
    if ((retptr & 3) !== 0) throw new PluginBadPointerError(retptr, 8, this.#buf.length);
    const len = data.length;
    const ptr = this.#realloc!(0, 0, 1, len) >>> 0;
    // cabi_realloc may have grown the memory: `range` re-reads the buffer when needed.
    const buf = this.range(ptr, len);
    if (len > 0) buf.set(data, ptr);
    const ret = this.range(retptr, 8);
    ret.writeUInt32LE(ptr, retptr);
    ret.writeUInt32LE(len, retptr + 4);
  }

  /** Little-endian u32 at `ptr`. */
  readU32(ptr: number): number {
    return this.range(ptr, 4).readUInt32LE(ptr);
  }

  /** Byte at `ptr`. */
  readU8(ptr: number): number {
    return this.range(ptr, 1)[ptr];
  }

  /** String encoding of this plugin: how `encodeString` lays out text. */
  get encoding(): 'utf8' | 'utf16' {
    return this.#encoding;
  }
}
