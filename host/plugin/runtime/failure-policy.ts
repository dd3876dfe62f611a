/**
 * The failure policy (`--on-plugin-failure`, after Envoy's `failure_policy`): what follows when a
 * plugin call traps, runs out of fuel or past its budget. One implementation, used by both
 * runtimes, so inline and worker isolation behave alike (README, Isolation):
 *
 * - the channel whose call failed (`handle-connect`, `handle-msg`) is closed `plugin-failed`
 *   without `handle-broken`: its state died with the instance;
 * - `reload` (default): a fresh instance, `handle-connect(resumed = true)` for every open channel;
 * - `close`: a fresh instance serves new connections; every client channel open at the moment of
 *   the failure is closed `plugin-failed` (in worker isolation that includes channels whose
 *   `handle-connect` had not reached the instance yet: the broker had already opened them);
 * - `fail-closed`: health `failed` until an operator reloads.
 *
 * Pacing (restart-governor.ts): the first restart within a window is immediate (started before
 * `failed` returns), each further one waits twice as long; past the cap the plugin is `failed`.
 * How an instance is replaced and which calls it is told about stays with each runtime.
 */
import type { Logger } from 'pino';
import type { FailurePolicy } from '../../config.js';
import { PluginFailedError, type PluginOutOfFuelError, type PluginTimeoutError, type PluginTrapError } from '../../errors.js';
import type { HealthState } from './health.js';
import { RestartGovernor } from './restart-governor.js';
import type { RuntimeOwner } from './runtime.js';

/** How a plugin call can fail. */
export type PluginCallError = PluginTrapError | PluginTimeoutError | PluginOutOfFuelError;

/** What a runtime does after a failed call. */
export type Recovery =
  /** Create a fresh instance after `delayMs` (`scheduleRestart`); `resume`: replay the open channels as resumed connects. */
  | { readonly action: 'restart'; readonly delayMs: number; readonly resume: boolean }
  /** Nothing will serve again: drop every queued call, then `giveUp(error)`. */
  | { readonly action: 'give-up'; readonly error: PluginFailedError };

/** What the enforcer needs. */
export interface FailurePolicyOptions {
  readonly policy: FailurePolicy;
  readonly owner: RuntimeOwner;
  readonly log: Logger;
  readonly health: HealthState;
  /** Clock for the restart window, ms. Default `Date.now`. */
  readonly nowMs?: () => number;
}

/** Applies the failure policy of one runtime (see the file comment). */
export class FailurePolicyEnforcer {
  readonly policy: FailurePolicy;
  readonly #owner: RuntimeOwner;
  readonly #log: Logger;
  readonly #health: HealthState;
  readonly #nowMs: () => number;
  readonly #governor = new RestartGovernor();

  constructor(opts: FailurePolicyOptions) {
    this.policy = opts.policy;
    this.#owner = opts.owner;
    this.#log = opts.log;
    this.#health = opts.health;
    this.#nowMs = opts.nowMs ?? Date.now;
  }

  /**
   * A call of `exportName` failed and its instance is gone: `report`, then decide. Under `close`
   * every open client channel is closed too.
   */
  failed(exportName: string, channel: number, err: PluginCallError, cause?: unknown): Recovery {
    this.report(exportName, channel, err, cause);
    if (this.policy === 'fail-closed') {
      return giveUp(`plugin failed in ${exportName} and the failure policy is fail-closed: reload it (SIGHUP) to serve again`, err);
    }
    // `close`: the channels the dead instance knew (or was about to be told about) go with it.
    if (this.policy === 'close') for (const [ch] of [...this.#owner.liveChannels()]) this.#owner.onChannelFailed(ch);
    const delayMs = this.#governor.next(this.#nowMs());
    if (delayMs === null) return giveUp(`plugin failed ${this.#governor.recent} times within a minute; giving up`, err);
    return { action: 'restart', delayMs, resume: this.policy === 'reload' };
  }

  /**
   * The part of a failure that holds whatever follows (also for a runtime that is stopping or
   * swapped out, which restarts nothing): logs it (`cause`: what the plugin raised), sets health
   * `restarting`, and closes `channel` (0: the call was about no channel).
   */
  report(exportName: string, channel: number, err: PluginCallError, cause?: unknown): void {
    this.#log.error({ code: err.code, export: exportName, channel, policy: this.policy, err: cause ?? err }, err.message);
    this.#health.set('restarting');
    if (channel !== 0) this.#owner.onChannelFailed(channel);
  }

  /** A fresh instance could not be created (`start` trapped or refused): the plugin is `failed`. */
  restartFailed(cause: Error): PluginFailedError {
    return new PluginFailedError(`plugin could not be restarted: ${cause.message}`, { cause });
  }

  /**
   * The plugin cannot be brought back: logs it, sets health `failed`, and has the owner close
   * every connection and refuse new ones. The runtime drops its instance and queue first.
   */
  giveUp(err: PluginFailedError): void {
    this.#log.error({ code: err.code, err }, err.message);
    this.#health.set('failed');
    this.#owner.onPluginFailed(err);
  }
}

function giveUp(message: string, cause: PluginCallError): Recovery {
  return { action: 'give-up', error: new PluginFailedError(message, { cause }) };
}

/**
 * Runs `restart` after `delayMs`: synchronously for 0 (the first restart in a window is
 * immediate in both runtimes), otherwise on a timer, which is returned so it can be cleared.
 */
export function scheduleRestart(delayMs: number, restart: () => void): NodeJS.Timeout | undefined {
  if (delayMs === 0) {
    restart();
    return undefined;
  }
  return setTimeout(restart, delayMs);
}
