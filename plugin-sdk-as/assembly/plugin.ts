// `Plugin`: the base class a plugin extends, and `register`, which installs it.

import { Channel } from "./channel";
import { CloseReason, PeerInfo } from "./types";
import { E_ALREADY_REGISTERED, E_NO_PLUGIN } from "./errors";

/**
 * Base class of every plugin. Override the handlers you need; the defaults accept every
 * connection and ignore everything else. Install one instance with `register`.
 *
 * The broker calls one handler at a time and never re-enters the plugin. For one channel the
 * order is: `onConnect`, then `onMessage` per frame in order, then exactly one `onBroken`
 * (also after a refused `onConnect` or a `Channel.close()`).
 *
 * A `throw` (or any trap) ends the instance: the broker closes the channel the call was about
 * with `CloseReason.PluginFailed` (no `onBroken` reaches the dead instance), creates a fresh
 * instance, calls `start` on it and then `onConnect` with `peer.resumed == true` for every channel
 * still open. All state of the old instance is lost.
 */
export abstract class Plugin {
  /**
   * Called once per instance before anything else, with the text given to
   * `broker serve --plugin-config` ("" when none).
   * @returns null to serve, or an error message to refuse (the broker prints it and exits).
   */
  start(config: string): string | null {
    return null;
  }

  /** Called once when the broker shuts down, after `onBroken(…, Shutdown)` for every channel. */
  stop(): void {}

  /**
   * A peer connected (or, with `peer.resumed`, an open channel is handed to a fresh instance).
   * `channel` may already `send` (a greeting).
   * @returns false to refuse: the broker closes the connection and calls
   * `onBroken(channel, CloseReason.RefusedByPlugin)`.
   */
  onConnect(channel: Channel, peer: PeerInfo): bool {
    return true;
  }

  /**
   * One complete frame arrived from `channel`. `payload` is the frame body (binary safe, possibly
   * empty).
   *
   * `payload` is lent until this method returns: the SDK recycles its memory (and the
   * `Uint8Array` object itself) for the next frame, which is what makes a frame cost no
   * allocation. Read it, mutate it, `channel.send(payload)` it; to keep the bytes for later, keep
   * a copy: `payload.slice()`. `payload.buffer` holds exactly the frame, so
   * `String.UTF8.decode(payload.buffer)` gives its text. Everything else (strings, maps, objects
   * you allocate) lives as long as you reference it.
   */
  onMessage(channel: Channel, payload: Uint8Array): void {}

  /** `channel` ended for `reason`. It is dead once this returns: forget it (drop its state). */
  onBroken(channel: Channel, reason: CloseReason): void {}

  /**
   * The timer `token` is due (armed with `timers.once` or `timers.every`). Needs the
   * `abi/timer-exports` module re-exported by the entry file.
   */
  onTimer(token: u64): void {}

  /**
   * Hot swap, old instance (world `stateful-plugin`: re-export `abi/stateful-exports` to opt in):
   * serialise everything the next version needs, including the channels you know. No call
   * follows. Put a version byte first: the next plugin may be a newer release.
   */
  snapshot(): Uint8Array {
    return new Uint8Array(0);
  }

  /**
   * Hot swap, new instance: rebuild state from what the previous version's `snapshot` returned.
   * Called after `start` and before any other handler; the open channels get no `onConnect`.
   * `state` is lent until this returns (copy what you keep, as with `onMessage` payloads).
   */
  restore(state: Uint8Array): void {}
}

/** The installed plugin: a GC root, so everything it references stays alive across calls. */
let registered: Plugin | null = null;

/**
 * Installs `plugin` as the handler of every broker call. Call it exactly once, at the top level of
 * the entry file: `register(new EchoPlugin());`
 * @throws E_ALREADY_REGISTERED on a second call (traps at instantiation).
 */
export function register(plugin: Plugin): void {
  if (registered !== null) throw new Error(E_ALREADY_REGISTERED);
  registered = plugin;
}

/**
 * The installed plugin (SDK-internal: used by abi/exports.ts).
 * @throws E_NO_PLUGIN when `register` was never called (traps).
 */
// @ts-ignore: decorator
@inline export function registeredPlugin(): Plugin {
  let plugin = registered;
  if (plugin === null) throw new Error(E_NO_PLUGIN);
  return plugin;
}
