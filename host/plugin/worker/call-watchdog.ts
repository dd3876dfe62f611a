/**
 * The CPU budget of worker isolation: a timer on the I/O thread that reads the worker's call
 * counter from shared memory (worker-protocol.ts, `CTL_*`) and reports a call whose counter has not
 * moved for its budget. No message and no clock read per call: the worker only bumps a counter, and
 * the check runs every quarter budget, so a stuck call is reported between 1 and 1.25 budgets in.
 */
import { PLUGIN_START_BUDGET_FACTOR } from '../../limits.js';
import { CALL_RESTORE, CALL_SNAPSHOT, CALL_START, CTL_CHANNEL, CTL_IN_CALL, CTL_KIND, CTL_SEQ } from './worker-protocol.js';

export class CallWatchdog {
  readonly #ctl: Int32Array;
  readonly #budgetMs: number;
  readonly #onStuck: (kind: number, channel: number, budgetMs: number) => void;
  #timer: NodeJS.Timeout | undefined;
  #lastSeq = -1;
  #seqSinceMs = 0;
  /** False while no worker is there to watch (between a termination and the next start). */
  armed = false;

  /**
   * @param budgetMs budget of one call; `start`, `snapshot` and `restore` get
   *   `PLUGIN_START_BUDGET_FACTOR` times as much.
   * @param onStuck called once per stuck call, with its kind, channel and the budget it exceeded.
   */
  constructor(ctl: Int32Array, budgetMs: number, onStuck: (kind: number, channel: number, budgetMs: number) => void) {
    this.#ctl = ctl;
    this.#budgetMs = budgetMs;
    this.#onStuck = onStuck;
  }

  start(): void {
    this.#timer = setInterval(() => this.#check(), Math.max(1, Math.floor(this.#budgetMs / 4)));
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #check(): void {
    const ctl = this.#ctl;
    if (!this.armed || Atomics.load(ctl, CTL_IN_CALL) === 0) {
      this.#lastSeq = -1;
      return;
    }
    const seq = Atomics.load(ctl, CTL_SEQ);
    const now = performance.now();
    if (seq !== this.#lastSeq) {
      this.#lastSeq = seq;
      this.#seqSinceMs = now;
      return;
    }
    const kind = ctl[CTL_KIND];
    const long = kind === CALL_START || kind === CALL_SNAPSHOT || kind === CALL_RESTORE;
    const budgetMs = long ? this.#budgetMs * PLUGIN_START_BUDGET_FACTOR : this.#budgetMs;
    if (now - this.#seqSinceMs < budgetMs) return;
    this.#lastSeq = -1;
    this.#onStuck(kind, ctl[CTL_CHANNEL] >>> 0, budgetMs);
  }
}
