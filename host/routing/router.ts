/**
 * Delivers what a plugin asks for to connections: frames to one channel, and closes. Later issues
 * add groups and upstreams here. It never imports the plugin runtime.
 */
import type { ConnectionRegistry } from '../connection/registry.js';

export class Router {
  readonly #registry: ConnectionRegistry;

  constructor(registry: ConnectionRegistry) {
    this.#registry = registry;
  }

  /** Queues `src[start, end)` as a frame for `channel`; false when unknown, closing or full. */
  send(channel: number, src: Uint8Array, start: number, end: number): boolean {
    const conn = this.#registry.get(channel);
    return conn !== undefined && conn.send(src, start, end);
  }

  /** Closes `channel` gracefully on the plugin's request; unknown handles are ignored. */
  closeByPlugin(channel: number): void {
    this.#registry.get(channel)?.close('closed-by-plugin');
  }
}
