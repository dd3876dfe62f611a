/**
 * One instance of a plugin: the host side of the canonical ABI for the `plugin` world, calling the
 * main core module's exports directly. This replaces jco's transpiled glue on the per-message path
 * (≈ 14 µs per call there, ≈ 0.1–0.3 µs here: docs/plugin-runtime.md).
 *
 * Lowering rules implemented here (component-model CanonicalABI.md): a `list<u8>` or `string`
 * argument is copied into memory obtained from the plugin's `cabi_realloc(0, 0, align, size)` and
 * passed as (ptr, len); `u32`/`bool`/enums pass as i32; `result<_, string>` comes back through a
 * return pointer (discriminant byte at +0, string ptr at +4, len at +8).
 */
import type { HostImports } from '../../host-api/host-imports.js';
import { buildImports } from './imports.js';
import { PluginBadPointerError } from '../../errors.js';
import { FUEL_EXPORT } from '../load/fuel.js';
import { PluginMemory } from './memory.js';
import type { PluginSpec } from '../load/plugin-spec.js';
import { MAX_PLUGIN_LOG_BYTES } from '../../limits.js';
import { TRANSPORT_KINDS, type PeerInfo } from '../world.js';

type I32 = number;
interface CoreExports {
  memory: WebAssembly.Memory;
  cabi_realloc(oldPtr: I32, oldSize: I32, align: I32, newSize: I32): I32;
  start(ptr: I32, len: I32): I32;
  cabi_post_start?(retptr: I32): void;
  stop(): void;
  'handle-connect'(ch: I32, addrPtr: I32, addrLen: I32, port: I32, transport: I32, secure: I32, resumed: I32): I32;
  'handle-msg'(ch: I32, ptr: I32, len: I32): void;
  'handle-broken'(ch: I32, reason: I32): void;
  'handle-timer'?(token: bigint): void;
  'handle-send'?(ch: I32, ptr: I32, len: I32): void;
  'handle-group-send'?(groupPtr: I32, groupLen: I32, ptr: I32, len: I32, except: I32): void;
  snapshot?(): I32;
  cabi_post_snapshot?(retptr: I32): void;
  restore?(ptr: I32, len: I32): void;
}

/**
 * A live instance. Any method may throw whatever the plugin raised (a `WebAssembly.RuntimeError`
 * trap, a `RangeError` for stack exhaustion, `PluginBadPointerError`): after a throw the instance is
 * poisoned and must be dropped; `PluginRuntime` does that.
 */
export class PluginInstance {
  readonly #mem: PluginMemory;
  readonly #realloc: CoreExports['cabi_realloc'];
  readonly #handleMsg: CoreExports['handle-msg'];
  readonly #exports: CoreExports;
  readonly #hasPostStart: boolean;
  /** The fuel counter (fuel.ts), refilled to `#callFuel` before every call; undefined without fuel. */
  readonly #fuel: WebAssembly.Global | undefined;
  readonly #callFuel: number;

  /** Instantiates `spec.module` with the host imports bound to `host`. */
  constructor(spec: PluginSpec, host: HostImports) {
    this.#mem = new PluginMemory(spec.stringEncoding);
    const instance = new WebAssembly.Instance(spec.module, buildImports(host, this.#mem));
    this.#exports = instance.exports as unknown as CoreExports;
    this.#mem.bind(this.#exports.memory, this.#exports.cabi_realloc);
    this.#realloc = this.#exports.cabi_realloc;
    this.#handleMsg = this.#exports['handle-msg'];
    this.#hasPostStart = spec.hasPostStart;
    this.#callFuel = spec.callFuel;
    this.#fuel = spec.callFuel > 0 ? (instance.exports[FUEL_EXPORT] as WebAssembly.Global | undefined) : undefined;
  }

  /** True when the last call trapped because it used up its fuel (rather than a trap of its own). */
  get outOfFuel(): boolean {
    return this.#fuel !== undefined && (this.#fuel.value as number) < 0;
  }

  #refuel(): void {
    const fuel = this.#fuel;
    if (fuel !== undefined) fuel.value = this.#callFuel;
  }

  /** Calls `start(config)`. Returns null on success or the plugin's error text. */
  start(config: string): string | null {
    this.#refuel();
    const [ptr, len] = this.#lowerString(config);
    const ret = this.#exports.start(ptr, len) >>> 0;
    let error: string | null = null;
    if (this.#mem.readU8(ret) !== 0) {
      const errPtr = this.#mem.readU32(ret + 4);
      const errLen = this.#mem.readU32(ret + 8);
      error = this.#mem.readString(errPtr, errLen, MAX_PLUGIN_LOG_BYTES);
    }
    if (this.#hasPostStart) this.#exports.cabi_post_start!(ret);
    return error;
  }

  /** Calls `stop()`. */
  stop(): void {
    this.#refuel();
    this.#exports.stop();
  }

  /** Calls `handle-connect(channel, peer)`; true accepts the connection. */
  handleConnect(channel: number, peer: PeerInfo): boolean {
    this.#refuel();
    const [ptr, len] = this.#lowerString(peer.address);
    const ok = this.#exports['handle-connect'](
      channel,
      ptr,
      len,
      peer.port,
      TRANSPORT_KINDS.indexOf(peer.transport),
      peer.secure ? 1 : 0,
      peer.resumed ? 1 : 0,
    );
    return ok !== 0;
  }

  /** Calls `handle-msg(channel, payload)`: the hot path, one realloc, one copy, one call. */
  handleMsg(channel: number, payload: Uint8Array): void {
    this.#refuel();
    const len = payload.length;
    const ptr = this.#realloc(0, 0, 1, len) >>> 0;
    this.#mem.bytes(ptr, len).set(payload, ptr);
    this.#handleMsg(channel, ptr, len);
  }

  /** Calls `handle-broken(channel, reason)` with the reason's discriminant. */
  handleBroken(channel: number, reasonCode: number): void {
    this.#refuel();
    this.#exports['handle-broken'](channel, reasonCode);
  }

  /** Calls `handle-timer(token)` (world `timed-plugin`); does nothing for a plugin without it. */
  handleTimer(token: bigint): void {
    this.#refuel();
    this.#exports['handle-timer']?.(token);
  }

  /** Calls `handle-send(channel, payload)` (world `filter`); does nothing for a plugin without it. */
  handleSend(channel: number, payload: Uint8Array): void {
    const handleSend = this.#exports['handle-send'];
    if (handleSend === undefined) return;
    this.#refuel();
    const len = payload.length;
    const ptr = this.#realloc(0, 0, 1, len) >>> 0;
    this.#mem.bytes(ptr, len).set(payload, ptr);
    handleSend(channel, ptr, len);
  }

  /** Calls `handle-group-send(group, payload, except)` (world `filter`); does nothing for a plugin without it. */
  handleGroupSend(group: string, payload: Uint8Array, except: number): void {
    const handleGroupSend = this.#exports['handle-group-send'];
    if (handleGroupSend === undefined) return;
    this.#refuel();
    const [gPtr, gLen] = this.#lowerString(group);
    const len = payload.length;
    const ptr = this.#realloc(0, 0, 1, len) >>> 0;
    this.#mem.bytes(ptr, len).set(payload, ptr);
    handleGroupSend(gPtr, gLen, ptr, len, except);
  }

  /**
   * Calls `snapshot()` (world `stateful-plugin`) and copies the state out of plugin memory.
   * The result is a `list<u8>` behind a return pointer: ptr at +0, len at +4.
   */
  snapshot(): Uint8Array {
    this.#refuel();
    const ret = this.#exports.snapshot!() >>> 0;
    const ptr = this.#mem.readU32(ret);
    const len = this.#mem.readU32(ret + 4);
    const state = Uint8Array.prototype.slice.call(this.#mem.range(ptr, len), ptr, ptr + len);
    this.#exports.cabi_post_snapshot?.(ret);
    return state;
  }

  /** Calls `restore(state)` (world `stateful-plugin`); `state` is copied into plugin memory. */
  restore(state: Uint8Array): void {
    this.#refuel();
    const len = state.length;
    const ptr = this.#realloc(0, 0, 1, len) >>> 0;
    this.#mem.range(ptr, len).set(state, ptr);
    this.#exports.restore!(ptr, len);
  }

  /** Bytes of linear memory now (for limits and tests). */
  get memoryBytes(): number {
    return this.#exports.memory.buffer.byteLength;
  }

  /** Copies `text` into plugin memory in the plugin's string encoding; returns (ptr, code units). */
  #lowerString(text: string): [number, number] {
    if (this.#mem.encoding === 'utf8') {
      const bytes = Buffer.from(text, 'utf8');
      const ptr = this.#realloc(0, 0, 1, bytes.length) >>> 0;
      this.#mem.range(ptr, bytes.length).set(bytes, ptr);
      return [ptr, bytes.length];
    }
    const byteLen = text.length * 2;
    const ptr = this.#realloc(0, 0, 2, byteLen) >>> 0;
    if ((ptr & 1) !== 0) throw new PluginBadPointerError(ptr, byteLen, this.memoryBytes);
    this.#mem.range(ptr, byteLen).write(text, ptr, byteLen, 'utf16le');
    return [ptr, text.length];
  }
}
