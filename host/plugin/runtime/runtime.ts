/**
 * `PluginRuntime`: what the broker calls to run one plugin, whatever the isolation. Two
 * implementations (extism's same-thread / worker split):
 *
 * - `InlineRuntime` (inline-runtime.ts) calls the instance on the I/O thread: a few hundred ns per
 *   frame, no preemption (a call that never returns stalls the broker);
 * - `WorkerRuntime` (../worker/worker-runtime.ts) runs the instance in a `worker_threads` Worker
 *   fed in batches; a call over `pluginCallBudgetMs` is stopped by terminating the worker.
 *
 * Rules both enforce (the calling rules of wit/plugin.wit):
 * - never re-entrant: a `handle-broken` that becomes due while a call runs is delivered after it;
 * - a failure (trap, memory cap, budget) poisons the instance; the failure policy decides what
 *   follows (`reload`: fresh instance, live channels replayed with `handle-connect(resumed)`;
 *   `close`: fresh instance, the channels the old one knew are closed; `fail-closed`: health
 *   `failed` until an operator reloads). Restarts back off exponentially and are capped per minute.
 */
import type { Logger } from 'pino';
import type { FailurePolicy, IsolationMode } from '../../config.js';
import type { PluginFailedError } from '../../errors.js';
import type { HostImports } from '../../host-api/host-imports.js';
import type { PluginSpec } from '../load/plugin-spec.js';
import type { PeerInfo } from '../world.js';
import type { CallTimings } from '../../metrics/call-timings.js';
import type { PluginHealth } from './health.js';
import type { RuntimeServices } from './runtime-services.js';

/** What the runtime asks of its owner (the broker). */
export interface RuntimeOwner {
  /** A call about `channel` failed (or the policy drops it): close it with `plugin-failed`, without `handle-broken`. */
  onChannelFailed(channel: number): void;
  /**
   * The plugin decided a `handle-connect` whose answer was not returned synchronously (worker
   * isolation), or refused a resumed channel after a restart. false: close it `refused-by-plugin`.
   */
  onConnectDecided(channel: number, accepted: boolean): void;
  /** The open channels with their peer info (`resumed` set), to tell a fresh instance about them. */
  liveChannels(): Iterable<readonly [number, PeerInfo]>;
  /** A fresh instance replaced a failed one (after the live channels were replayed, or closed). */
  onInstanceReplaced(): void;
  /** The plugin cannot be brought back: refuse and close everything. */
  onPluginFailed(err: PluginFailedError): void;
}

/** Everything a runtime needs, whatever its isolation. */
export interface RuntimeOptions {
  readonly spec: PluginSpec;
  /** The WIT interfaces on the I/O thread (worker isolation applies the worker's effects through them). */
  readonly imports: HostImports;
  /** What the runtime needs from the I/O thread besides (resets; a worker's mirror and handle reserve). */
  readonly services: RuntimeServices;
  /** Text for the plugin's `start(config)`. */
  readonly config: string;
  readonly log: Logger;
  readonly owner: RuntimeOwner;
  readonly failurePolicy: FailurePolicy;
  /** CPU budget of one call in ms (worker isolation). */
  readonly callBudgetMs: number;
  /** Largest frame a plugin may send (checked in the worker before the frame crosses threads). */
  readonly maxFrameBytes: number;
  /** Bytes that may queue for one peer before `channel-send` returns false (checked in the worker too). */
  readonly maxOutboundBytes: number;
  /** Largest channel data per channel (`--channel-data-max-bytes`; checked in the worker too). */
  readonly maxChannelDataBytes: number;
  /** Where sampled call durations go (metrics, #11); absent: calls are not timed. */
  readonly callTimings?: CallTimings;
}

/** One running plugin, as the broker sees it. */
export interface PluginRuntime {
  readonly spec: PluginSpec;
  readonly isolation: IsolationMode;
  /** Current health. */
  readonly health: PluginHealth;
  /** Increases each time a new instance is created: lets callers notice a restart mid-iteration. */
  readonly generation: number;
  /** Linear memory of the current instance in bytes (worker isolation: as of its last batch). */
  readonly memoryBytes: number;

  /**
   * Creates the first instance and calls `start(config)`.
   * @throws {PluginStartError} when instantiation traps, `start` returns an error or runs past its budget.
   */
  start(): Promise<void>;

  /**
   * `handle-connect`. Inline: the plugin's answer (false also when the call failed; the channel is
   * then already closed). Worker: `undefined`; the channel should be opened at once, its frames are
   * queued behind the connect, and the answer comes through `RuntimeOwner.onConnectDecided`.
   */
  handleConnect(channel: number, peer: PeerInfo): boolean | undefined;

  /** `handle-msg`. `payload` is only valid during the call (it is copied when it must wait). */
  handleMsg(channel: number, payload: Uint8Array): void;

  /** `handle-broken`, with the reason's discriminant; queued if a call is running. */
  handleBroken(channel: number, reasonCode: number): void;

  /**
   * `handle-timer(token)` (world `timed-plugin`), for the arming tagged `arm` (see
   * `RuntimeServices.armTimer`; 0 for timers armed through the `timers` interface). Dropped while
   * no instance is serving (a restart cancels every timer of the old instance anyway); worker
   * isolation also drops a firing whose arming the plugin cancelled or replaced meanwhile.
   */
  handleTimer(token: bigint, arm: number): void;

  /** Delivers what is queued, calls `stop()`, and releases the instance (and worker). */
  stop(): Promise<void>;

  /**
   * Hot swap, old side: takes no further calls, lets queued ones finish, then returns the
   * plugin's `snapshot()` when `withSnapshot` (and the plugin is stateful), and releases the
   * instance without calling `stop()`.
   */
  detach(withSnapshot: boolean): Promise<Uint8Array | null>;

  /**
   * Hot swap, new side: `restore(state)` before any call queued after this one. Until `state`
   * resolves, calls wait (worker) — inline, pass the bytes themselves.
   */
  restore(state: Uint8Array | Promise<Uint8Array | null>): void;

  /**
   * Hot swap by replay, new side: once `oldDrained` settles (the old runtime's group effects are
   * all applied), the runtime learns the broker's group memberships before any call queued after
   * this one. Worker isolation only (its group mirror); calls wait until then. Inline: absent.
   */
  adoptGroups?(oldDrained: Promise<unknown>): void;
}

/** Creates the runtime for `isolation` (nothing runs until `start`). */
export async function createRuntime(isolation: IsolationMode, opts: RuntimeOptions): Promise<PluginRuntime> {
  if (isolation === 'worker') {
    const { WorkerRuntime } = await import('../worker/worker-runtime.js');
    return new WorkerRuntime(opts);
  }
  const { InlineRuntime } = await import('./inline-runtime.js');
  return new InlineRuntime(opts);
}
