/**
 * Plugin health as an explicit state (after proxy-wasm-cpp-host's `FailState`), logged on every
 * change and readable by metrics.
 *
 * - `ok`: an instance is serving.
 * - `restarting`: the instance failed; a fresh one is being created (or the first one is starting).
 * - `failed`: no instance could be brought back (start failed, too many restarts in a window, or
 *   the policy is `fail-closed`); the broker refuses every connection.
 */
import type { Logger } from 'pino';

export type PluginHealth = 'ok' | 'restarting' | 'failed';

/** The health of one runtime: logs `plugin health <state>` on every change. */
export class HealthState {
  readonly #log: Logger;
  #value: PluginHealth = 'restarting';

  constructor(log: Logger) {
    this.#log = log;
  }

  get value(): PluginHealth {
    return this.#value;
  }

  set(health: PluginHealth): void {
    if (health === this.#value) return;
    const previous = this.#value;
    this.#value = health;
    this.#log.info({ health, previous }, `plugin health ${health}`);
  }
}
