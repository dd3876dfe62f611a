/**
 * Channel handles and the handle → connection map.
 *
 * Handles are u32, never 0, allocated in increasing order and wrapped only after the whole 32-bit
 * space is used, skipping handles still live. A plugin that keeps a stale handle therefore cannot
 * reach a new connection through it for billions of connections (the original broker handed scripts
 * freed pointers that new connections reused).
 */
import { MAX_CHANNEL_ID } from '../limits.js';
import type { Connection } from './connection.js';

export class ConnectionRegistry {
  readonly #byId = new Map<number, Connection>();
  /** Handles promised ahead of their connection (a plugin worker's upstream reserve): never allocated again until released or added. */
  readonly #reserved = new Set<number>();
  #last = 0;

  /** Number of registered (live) connections. */
  get size(): number {
    return this.#byId.size;
  }

  /**
   * The next free handle.
   * @throws {Error} when all 2^32 − 1 handles are live (cannot happen below 4 billion connections).
   */
  allocateId(): number {
    for (let tries = 0; tries < MAX_CHANNEL_ID; tries++) {
      this.#last = this.#last >= MAX_CHANNEL_ID ? 1 : this.#last + 1;
      if (!this.#byId.has(this.#last) && !this.#reserved.has(this.#last)) return this.#last;
    }
    throw new Error('no free channel handle');
  }

  /**
   * A free handle set aside for a connection made later (`add` with it, or `releaseId`): a plugin
   * worker hands it out synchronously in `upstream-open` while the I/O thread opens the connection.
   */
  reserveId(): number {
    const id = this.allocateId();
    this.#reserved.add(id);
    return id;
  }

  /** Gives back a handle from `reserveId` that no connection took. */
  releaseId(id: number): void {
    this.#reserved.delete(id);
  }

  add(conn: Connection): void {
    this.#reserved.delete(conn.id);
    this.#byId.set(conn.id, conn);
  }

  get(id: number): Connection | undefined {
    return this.#byId.get(id);
  }

  delete(id: number): void {
    this.#byId.delete(id);
  }

  /** Live connections, without a copy (closing one while iterating is safe: Map iteration skips deleted entries). */
  values(): IterableIterator<Connection> {
    return this.#byId.values();
  }

  /** Snapshot of the live connections (safe to close them while iterating). */
  list(): Connection[] {
    return [...this.#byId.values()];
  }
}
