/**
 * Plugin health as an explicit state (after proxy-wasm-cpp-host's `FailState`), logged on every
 * change and readable by metrics.
 *
 * - `ok`: an instance is serving.
 * - `restarting`: the instance trapped; a fresh one is being created.
 * - `failed`: no instance could be brought back (start failed, or too many restarts in a window);
 *   the broker refuses every connection.
 */
export type PluginHealth = 'ok' | 'restarting' | 'failed';
