/**
 * `ChannelDataStore`: the broker's copy of what plugins stored with `channel-set-data`
 * (wit/plugin.wit, issue 13), one byte string per channel. It lives outside every plugin instance,
 * so it survives a trap and a hot swap; the broker drops a channel's entry once its `handle-broken`
 * has been delivered (broker.ts `onClosed`). Inline isolation reads and writes it directly; worker
 * isolation keeps a mirror inside the worker (effect-recorder.ts), seeded from here when a fresh
 * instance starts, and applies the worker's sets here as effects. The size limit and the
 * dead-channel rule are checked in host.ts, not here.
 */

/** Per-channel data of the plugin(s) of one broker. */
export class ChannelDataStore {
  readonly #data = new Map<number, Uint8Array>();
  #bytes = 0;

  /** Stores a copy of `src[start, end)` for `channel` (an empty range clears it). */
  set(channel: number, src: Uint8Array, start: number, end: number): void {
    const old = this.#data.get(channel);
    if (old !== undefined) this.#bytes -= old.length;
    if (end <= start) {
      this.#data.delete(channel);
      return;
    }
    this.#data.set(channel, Uint8Array.prototype.slice.call(src, start, end)); // a copy (Buffer#slice would be a view)
    this.#bytes += end - start;
  }

  /** The data of `channel`, or undefined when none is stored. Not a copy: do not change it. */
  get(channel: number): Uint8Array | undefined {
    return this.#data.get(channel);
  }

  /** Bytes stored for `channel` (0 when none). */
  bytesOf(channel: number): number {
    return this.#data.get(channel)?.length ?? 0;
  }

  /** Drops the data of `channel` (it ended). */
  delete(channel: number): void {
    const old = this.#data.get(channel);
    if (old === undefined) return;
    this.#bytes -= old.length;
    this.#data.delete(channel);
  }

  /** Every channel with data, and its data: seeds a fresh worker instance's mirror. */
  entries(): Iterable<readonly [number, Uint8Array]> {
    return this.#data.entries();
  }

  /** Channels with data. */
  get size(): number {
    return this.#data.size;
  }

  /** Bytes stored in all. */
  get totalBytes(): number {
    return this.#bytes;
  }
}
