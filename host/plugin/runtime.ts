/**
 * `PluginRuntime`: runs one plugin on the I/O thread. It owns the current `PluginInstance`, keeps
 * calls from nesting, and replaces the instance when a call traps.
 *
 * Rules it enforces (the calling rules of wit/plugin.wit):
 * - never re-entrant: a `handle-broken` that becomes due while a call runs (the plugin closed a
 *   channel) is queued and delivered right after that call returns;
 * - a trap poisons the instance: the channel the call was about is closed without a `handle-broken`
 *   (the owner does that), a fresh instance is started, and the owner replays `handle-connect` for
 *   the live channels; too many restarts in a window mark the plugin `failed`.
 * CPU budgets, memory caps and worker isolation fit in here as other implementations of the same
 * methods (issue #5).
 */
import type { Logger } from 'pino';
import { PluginFailedError, PluginStartError, PluginTrapError } from '../errors.js';
import type { HostImports } from '../host-api/host.js';
import { MAX_PLUGIN_RESTARTS_PER_WINDOW, PLUGIN_RESTART_WINDOW_MS } from '../limits.js';
import type { PluginHealth } from './health.js';
import { PluginInstance } from './instance.js';
import type { PluginSpec } from './plugin-spec.js';
import type { PeerInfo } from './world.js';

/** What the runtime asks of its owner (the broker). */
export interface RuntimeOwner {
  /** A call about `channel` trapped: close it with `plugin-failed`, without `handle-broken`. */
  onChannelFailed(channel: number): void;
  /** A fresh instance replaced a trapped one: replay `handle-connect` (resumed) for live channels. */
  onInstanceReplaced(): void;
  /** The plugin cannot be brought back: refuse and close everything. */
  onPluginFailed(err: PluginFailedError): void;
}

export class PluginRuntime {
  readonly spec: PluginSpec;
  readonly #host: HostImports;
  readonly #config: string;
  readonly #log: Logger;
  readonly #owner: RuntimeOwner;
  #instance: PluginInstance | undefined;
  #health: PluginHealth = 'restarting';
  #generation = 0;
  #busy = false;
  /** handle-broken calls that became due during a call: [channel, reason code] pairs. */
  #deferred: number[] = [];
  #restartTimes: number[] = [];

  constructor(spec: PluginSpec, host: HostImports, config: string, log: Logger, owner: RuntimeOwner) {
    this.spec = spec;
    this.#host = host;
    this.#config = config;
    this.#log = log;
    this.#owner = owner;
  }

  /** Current health. */
  get health(): PluginHealth {
    return this.#health;
  }

  /** Increases each time a new instance is created: lets callers notice a restart mid-iteration. */
  get generation(): number {
    return this.#generation;
  }

  /** Current instance's linear memory size in bytes (0 when none). */
  get memoryBytes(): number {
    return this.#instance?.memoryBytes ?? 0;
  }

  /**
   * Creates the first instance and calls `start(config)`.
   * @throws {PluginStartError} when instantiation traps or `start` returns an error.
   */
  start(): void {
    this.#instance = this.#createInstance();
    this.#setHealth('ok');
  }

  /** `handle-connect`; false when refused, or when the call failed (the channel is then closed). */
  handleConnect(channel: number, peer: PeerInfo): boolean {
    const inst = this.#enter('handle-connect');
    if (inst === undefined) return false;
    let ok: boolean;
    try {
      ok = inst.handleConnect(channel, peer);
    } catch (err) {
      this.#trap('handle-connect', channel, err);
      return false;
    }
    this.#leave();
    return ok;
  }

  /** `handle-msg`. */
  handleMsg(channel: number, payload: Uint8Array): void {
    const inst = this.#enter('handle-msg');
    if (inst === undefined) return;
    try {
      inst.handleMsg(channel, payload);
    } catch (err) {
      this.#trap('handle-msg', channel, err);
      return;
    }
    this.#leave();
  }

  /** `handle-broken`; queued if a call is running. */
  handleBroken(channel: number, reasonCode: number): void {
    if (this.#busy) {
      this.#deferred.push(channel, reasonCode);
      return;
    }
    const inst = this.#enter('handle-broken');
    if (inst === undefined) return;
    try {
      inst.handleBroken(channel, reasonCode);
    } catch (err) {
      this.#trap('handle-broken', 0, err);
      return;
    }
    this.#leave();
  }

  /** `stop()`; the instance is dropped afterwards. A trap here is logged, nothing more. */
  stop(): void {
    const inst = this.#instance;
    this.#instance = undefined;
    if (inst === undefined || this.#busy) return;
    try {
      inst.stop();
    } catch (err) {
      this.#log.error({ code: 'PB_ERR_PLUGIN_TRAP', export: 'stop', err }, 'plugin trapped in stop');
    }
  }

  #enter(exportName: string): PluginInstance | undefined {
    if (this.#busy) throw new Error(`re-entrant plugin call to ${exportName}`); // broker bug
    const inst = this.#instance;
    if (inst !== undefined) this.#busy = true;
    return inst;
  }

  #leave(): void {
    this.#busy = false;
    // Deliver handle-broken calls that became due during the call, in order. Each may queue more.
    while (this.#deferred.length > 0 && !this.#busy) {
      const channel = this.#deferred.shift()!;
      const reason = this.#deferred.shift()!;
      this.handleBroken(channel, reason);
    }
  }

  #trap(exportName: string, channel: number, cause: unknown): void {
    this.#busy = false;
    this.#deferred = [];
    this.#instance = undefined;
    const err = new PluginTrapError(exportName, { cause });
    this.#log.error({ code: err.code, export: exportName, channel, err: cause }, err.message);
    this.#setHealth('restarting');
    if (channel !== 0) this.#owner.onChannelFailed(channel);
    this.#restart();
  }

  #restart(): void {
    const now = Date.now();
    this.#restartTimes = this.#restartTimes.filter((t) => now - t < PLUGIN_RESTART_WINDOW_MS);
    if (this.#restartTimes.length >= MAX_PLUGIN_RESTARTS_PER_WINDOW) {
      this.#fail(new PluginFailedError(`plugin trapped ${this.#restartTimes.length} times within ${PLUGIN_RESTART_WINDOW_MS} ms; giving up`));
      return;
    }
    this.#restartTimes.push(now);
    try {
      this.#instance = this.#createInstance();
    } catch (cause) {
      this.#fail(new PluginFailedError(`plugin could not be restarted: ${(cause as Error).message}`, { cause }));
      return;
    }
    this.#setHealth('ok');
    this.#owner.onInstanceReplaced();
  }

  #createInstance(): PluginInstance {
    let inst: PluginInstance;
    let error: string | null;
    this.#generation++;
    try {
      inst = new PluginInstance(this.spec, this.#host);
      this.#busy = true;
      error = inst.start(this.#config);
    } catch (cause) {
      throw new PluginStartError(`plugin ${this.spec.name} trapped in start: ${(cause as Error).message}`, { cause });
    } finally {
      this.#busy = false;
    }
    if (error !== null) throw new PluginStartError(`plugin ${this.spec.name} refused to start: ${error}`);
    return inst;
  }

  #fail(err: PluginFailedError): void {
    this.#instance = undefined;
    this.#log.error({ code: err.code, err }, err.message);
    this.#setHealth('failed');
    this.#owner.onPluginFailed(err);
  }

  #setHealth(health: PluginHealth): void {
    if (health === this.#health) return;
    const previous = this.#health;
    this.#health = health;
    this.#log.info({ health, previous }, `plugin health ${health}`);
  }
}
