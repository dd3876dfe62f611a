/**
 * `InlineRuntime`: runs one plugin on the I/O thread. It owns the current `PluginInstance`, keeps
 * calls from nesting, and applies the failure policy when a call traps (including a `memory.grow`
 * refused at the memory cap, which the plugin turns into a trap).
 *
 * It cannot stop a call that never returns: nothing preempts a wasm loop on the thread that runs
 * it, short of a `vm` timeout (≈ 69 µs per call, docs/plugin-runtime.md) or fuel counters compiled into the
 * module. That is what worker isolation is for (README, Isolation). Failures go through the
 * failure policy both runtimes share (failure-policy.ts).
 */
import type { Logger } from 'pino';
import { PluginOutOfFuelError, PluginStartError, PluginTrapError, type PluginFailedError } from '../../errors.js';
import type { HostImports } from '../../host-api/host-imports.js';
import { MAX_PLUGIN_PENDING_CALLS } from '../../limits.js';
import { PluginInstance } from '../abi/instance.js';
import type { PluginSpec } from '../load/plugin-spec.js';
import type { PeerInfo } from '../world.js';
import { FailurePolicyEnforcer, scheduleRestart } from './failure-policy.js';
import { HealthState, type PluginHealth } from './health.js';
import type { PluginRuntime, RuntimeOptions, RuntimeOwner } from './runtime.js';
import type { RuntimeServices } from './runtime-services.js';
import type { CallTimings, TimedExport } from '../../metrics/call-timings.js';

/**
 * A call held while the instance restarts: handle-msg carries a copied payload, handle-broken a
 * reason; a filter's handle-send (reason -2) and handle-group-send (reason -3, with its group) too.
 */
type HeldCall =
  | { channel: number; payload: Buffer; reason: -1 | -2 }
  | { channel: number; payload: null; reason: number }
  | { channel: number; payload: Buffer; reason: -3; group: string };

export class InlineRuntime implements PluginRuntime {
  readonly spec: PluginSpec;
  readonly isolation = 'inline' as const;
  readonly #imports: HostImports;
  readonly #services: RuntimeServices;
  readonly #config: string;
  readonly #log: Logger;
  readonly #owner: RuntimeOwner;
  readonly #health: HealthState;
  readonly #policy: FailurePolicyEnforcer;
  #instance: PluginInstance | undefined;
  #generation = 0;
  #busy = false;
  #detached = false;
  /** A swap's `restore` state is on its way: calls are held. */
  #gated = false;
  /** handle-broken calls that became due during a call: [channel, reason code] pairs. */
  #deferred: number[] = [];
  /** Calls that arrived while the instance was restarting (backoff). */
  #held: HeldCall[] = [];
  #restartTimer: NodeJS.Timeout | undefined;

  /** Sampled call durations (metrics, #11). */
  readonly #timings: CallTimings | undefined;

  constructor(opts: RuntimeOptions) {
    this.spec = opts.spec;
    this.#imports = opts.imports;
    this.#services = opts.services;
    this.#config = opts.config;
    this.#log = opts.log;
    this.#owner = opts.owner;
    this.#timings = opts.callTimings;
    this.#health = new HealthState(opts.log);
    this.#policy = new FailurePolicyEnforcer({ policy: opts.failurePolicy, owner: opts.owner, log: opts.log, health: this.#health });
  }

  get health(): PluginHealth {
    return this.#health.value;
  }

  get generation(): number {
    return this.#generation;
  }

  get memoryBytes(): number {
    return this.#instance?.memoryBytes ?? 0;
  }

  /** Runs `call`, timing it when the sampler picks it (a throw is not timed: the call failed). */
  #timed<T>(exportName: TimedExport, call: () => T): T {
    const timings = this.#timings;
    if (timings === undefined || !timings.sample()) return call();
    const t0 = performance.now();
    const result = call();
    timings.record(exportName, (performance.now() - t0) / 1000);
    return result;
  }

  async start(): Promise<void> {
    this.#instance = this.#createInstance();
    this.#health.set('ok');
  }

  handleConnect(channel: number, peer: PeerInfo): boolean {
    const inst = this.#enter('handle-connect');
    if (inst === undefined) return false;
    let ok: boolean;
    try {
      ok = this.#timed('handle-connect', () => inst.handleConnect(channel, peer));
    } catch (err) {
      this.#failed('handle-connect', channel, err);
      return false;
    }
    this.#leave();
    return ok;
  }

  handleMsg(channel: number, payload: Uint8Array): void {
    const inst = this.#enter('handle-msg');
    if (inst === undefined) {
      this.#hold({ channel, payload: Buffer.from(payload), reason: -1 });
      return;
    }
    try {
      // The message path: one counter increment unless this call is the one in 64 that is timed.
      const timings = this.#timings;
      if (timings === undefined || !timings.sample()) inst.handleMsg(channel, payload);
      else {
        const t0 = performance.now();
        inst.handleMsg(channel, payload);
        timings.record('handle-msg', (performance.now() - t0) / 1000);
      }
    } catch (err) {
      this.#failed('handle-msg', channel, err);
      return;
    }
    this.#leave();
  }

  /** `handle-send` (world `filter`): a frame the next plugin of a chain queued for `channel`'s peer. */
  handleSend(channel: number, payload: Uint8Array): void {
    const inst = this.#enter('handle-send');
    if (inst === undefined) {
      this.#hold({ channel, payload: Buffer.from(payload), reason: -2 });
      return;
    }
    try {
      inst.handleSend(channel, payload); // not timed: the metrics' export list is world `plugin`'s
    } catch (err) {
      this.#failed('handle-send', channel, err);
      return;
    }
    this.#leave();
  }

  /** `handle-group-send` (world `filter`): a group frame the next plugin of a chain queued. */
  handleGroupSend(group: string, payload: Uint8Array, except: number): void {
    const inst = this.#enter('handle-group-send');
    if (inst === undefined) {
      this.#hold({ channel: except, payload: Buffer.from(payload), reason: -3, group });
      return;
    }
    try {
      inst.handleGroupSend(group, payload, except);
    } catch (err) {
      this.#failed('handle-group-send', 0, err);
      return;
    }
    this.#leave();
  }

  handleBroken(channel: number, reasonCode: number): void {
    if (this.#busy) {
      this.#deferred.push(channel, reasonCode);
      return;
    }
    const inst = this.#enter('handle-broken');
    if (inst === undefined) {
      this.#hold({ channel, payload: null, reason: reasonCode });
      return;
    }
    try {
      this.#timed('handle-broken', () => inst.handleBroken(channel, reasonCode));
    } catch (err) {
      this.#failed('handle-broken', 0, err);
      return;
    }
    this.#leave();
  }

  handleTimer(token: bigint, arm: number): void {
    if (this.#busy) {
      // Timers fire from the event loop, never inside a call; keep the rule even so.
      setImmediate(() => this.handleTimer(token, arm));
      return;
    }
    const inst = this.#enter('handle-timer');
    if (inst === undefined) return;
    try {
      this.#timed('handle-timer', () => inst.handleTimer(token));
    } catch (err) {
      this.#failed('handle-timer', 0, err);
      return;
    }
    this.#leave();
  }

  async stop(): Promise<void> {
    clearTimeout(this.#restartTimer);
    const inst = this.#instance;
    this.#instance = undefined;
    if (inst === undefined || this.#busy) return;
    try {
      inst.stop();
    } catch (err) {
      this.#log.error({ code: 'PB_ERR_PLUGIN_TRAP', export: 'stop', err }, 'plugin trapped in stop');
    }
  }

  async detach(withSnapshot: boolean): Promise<Uint8Array | null> {
    clearTimeout(this.#restartTimer);
    this.#detached = true;
    const inst = this.#instance;
    this.#instance = undefined;
    if (inst === undefined || !withSnapshot || !this.spec.stateful) return null;
    try {
      return inst.snapshot();
    } catch (err) {
      this.#log.error({ code: 'PB_ERR_PLUGIN_TRAP', export: 'snapshot', err }, 'plugin trapped in snapshot; swapping without state');
      return null;
    }
  }

  restore(state: Uint8Array | Promise<Uint8Array | null>): void {
    // Calls wait (held) until the state is there. An inline snapshot is taken synchronously, so
    // this lasts one microtask: no socket event can arrive in between.
    const live = [...this.#owner.liveChannels()];
    const inst = this.#instance;
    this.#instance = undefined;
    this.#gated = true;
    void Promise.resolve(state).then((bytes) => {
      this.#gated = false;
      this.#instance = inst;
      const generation = this.#generation;
      if (bytes === null) {
        for (const [channel, peer] of live) {
          if (this.handleConnect(channel, peer) === false) this.#owner.onConnectDecided(channel, false);
          if (this.#generation !== generation) return;
        }
      } else {
        const target = this.#enter('restore');
        if (target === undefined) return;
        try {
          target.restore(bytes);
        } catch (err) {
          this.#failed('restore', 0, err);
          return;
        }
        this.#leave();
      }
      const held = this.#held;
      this.#held = [];
      for (const call of held) {
        this.#replayHeld(call);
        if (this.#generation !== generation) return;
      }
    });
  }

  /** Delivers one held call. */
  #replayHeld(call: HeldCall): void {
    if ('group' in call) this.handleGroupSend(call.group, call.payload, call.channel);
    else if (call.reason === -2) this.handleSend(call.channel, call.payload!);
    else if (call.reason === -1) this.handleMsg(call.channel, call.payload!);
    else this.handleBroken(call.channel, call.reason);
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

  #hold(call: HeldCall): void {
    if ((this.#health.value !== 'restarting' && !this.#gated) || this.#detached) return; // failed or swapped out: nobody will take it
    if (this.#held.length >= MAX_PLUGIN_PENDING_CALLS) {
      if (call.reason === -1) this.#owner.onChannelFailed(call.channel);
      return;
    }
    this.#held.push(call);
  }

  #failed(exportName: string, channel: number, cause: unknown): void {
    this.#busy = false;
    this.#deferred = [];
    const outOfFuel = this.#instance?.outOfFuel === true;
    this.#instance = undefined;
    const err = outOfFuel ? new PluginOutOfFuelError(exportName, this.spec.callFuel) : new PluginTrapError(exportName, { cause });
    const recovery = this.#policy.failed(exportName, channel, err, cause);
    if (recovery.action === 'give-up') {
      this.#fail(recovery.error);
      return;
    }
    // Not `this.#restartTimer = scheduleRestart(…)`: an immediate restart may fail again and set a timer of its own.
    const timer = scheduleRestart(recovery.delayMs, () => this.#restart(recovery.resume));
    if (timer !== undefined) this.#restartTimer = timer;
  }

  #restart(resume: boolean): void {
    if (this.#detached) return;
    try {
      this.#instance = this.#createInstance();
    } catch (cause) {
      this.#fail(this.#policy.restartFailed(cause as Error));
      return;
    }
    this.#health.set('ok');
    const generation = this.#generation;
    const introduced = new Set<number>();
    if (resume) {
      for (const [channel, peer] of [...this.#owner.liveChannels()]) {
        const ok = this.handleConnect(channel, peer);
        if (this.#generation !== generation) return; // failed again: that restart replays
        introduced.add(channel);
        if (!ok) this.#owner.onConnectDecided(channel, false);
      }
    }
    // Frames that arrived during the backoff, for channels the fresh instance knows, in order.
    const held = this.#held;
    this.#held = [];
    for (const call of held) {
      if ('group' in call)
        this.#replayHeld(call); // a group frame is about no one channel
      else if (!introduced.has(call.channel)) continue;
      else if (call.payload !== null) this.#replayHeld(call);
      else {
        this.handleBroken(call.channel, call.reason);
        introduced.delete(call.channel);
      }
      if (this.#generation !== generation) return;
    }
    this.#owner.onInstanceReplaced();
  }

  #createInstance(): PluginInstance {
    let inst: PluginInstance | undefined;
    let error: string | null;
    this.#generation++;
    // Timers and upstream channels belong to the instance that armed or opened them.
    this.#services.resetInstanceState();
    try {
      inst = new PluginInstance(this.spec, this.#imports);
      this.#busy = true;
      error = inst.start(this.#config);
    } catch (cause) {
      const what = inst?.outOfFuel === true ? `used up its fuel (${this.spec.callFuel} steps)` : 'trapped';
      throw new PluginStartError(`plugin ${this.spec.name} ${what} in start: ${(cause as Error).message}`, { cause });
    } finally {
      this.#busy = false;
    }
    if (error !== null) throw new PluginStartError(`plugin ${this.spec.name} refused to start: ${error}`);
    return inst!;
  }

  #fail(err: PluginFailedError): void {
    this.#instance = undefined;
    this.#held = [];
    this.#policy.giveUp(err);
  }
}
