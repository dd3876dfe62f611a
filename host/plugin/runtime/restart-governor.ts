/**
 * Restart pacing shared by both runtimes: the first restart within a window is immediate, each
 * further one waits twice as long as the one before (from `PLUGIN_RESTART_BACKOFF_BASE_MS` up to
 * `PLUGIN_RESTART_BACKOFF_MAX_MS`), and more than `MAX_PLUGIN_RESTARTS_PER_WINDOW` restarts within
 * `PLUGIN_RESTART_WINDOW_MS` give up (the plugin is `failed`).
 */
import { MAX_PLUGIN_RESTARTS_PER_WINDOW, PLUGIN_RESTART_BACKOFF_BASE_MS, PLUGIN_RESTART_BACKOFF_MAX_MS, PLUGIN_RESTART_WINDOW_MS } from '../../limits.js';

export class RestartGovernor {
  #times: number[] = [];

  /**
   * Records a restart at `nowMs` and returns how long to wait before it, in ms; null when the
   * cap is reached (give up).
   */
  next(nowMs: number): number | null {
    this.#times = this.#times.filter((t) => nowMs - t < PLUGIN_RESTART_WINDOW_MS);
    const n = this.#times.length;
    if (n >= MAX_PLUGIN_RESTARTS_PER_WINDOW) return null;
    this.#times.push(nowMs);
    if (n === 0) return 0;
    return Math.min(PLUGIN_RESTART_BACKOFF_BASE_MS * 2 ** (n - 1), PLUGIN_RESTART_BACKOFF_MAX_MS);
  }

  /** Restarts counted in the current window. */
  get recent(): number {
    return this.#times.length;
  }
}
