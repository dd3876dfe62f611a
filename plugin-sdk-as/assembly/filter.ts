// `Filter`: the base class of a plugin that sits in front of another one in a plugin chain
// (`broker serve --plugin filter.wasm --plugin app.wasm`, world `filter` of wit/plugin.wit).

import { chainForward } from "./abi/imports";
import { Channel } from "./channel";
import { Group } from "./group";
import { Plugin } from "./plugin";

/**
 * Base class of a filter. Everything of `Plugin` applies (`onConnect`, `onBroken`, timers, channel
 * data, groups), plus two directions:
 *
 * - **in** (`onMessage`): a frame from the client, or from the filter before this one. Pass it on
 *   with `forward(channel, payload)` (the same bytes or others), answer it with `channel.send`
 *   (towards the client), drop it (return), or `channel.close()`. The default passes it on.
 * - **out** (`onSend`, `onGroupSend`): a frame the plugin after this one queued for the client, or
 *   for a group. Pass it on with `channel.send` / `group.send`, changed or not, or drop it. The
 *   defaults pass it on unchanged.
 *
 * The entry file re-exports `abi/filter-exports` beside `abi/exports`, and registers the filter:
 * `register(new MyFilter());`. The build then checks it against world `filter`.
 */
export abstract class Filter extends Plugin {
  /** In: a frame from `channel`'s side. Default: passed on unchanged. `payload` is lent as in `Plugin.onMessage`. */
  onMessage(channel: Channel, payload: Uint8Array): void {
    forward(channel, payload);
  }

  /** Out: the next plugin queued `payload` for `channel`'s peer. Default: passed on unchanged. `payload` is lent. */
  onSend(channel: Channel, payload: Uint8Array): void {
    channel.send(payload);
  }

  /**
   * Out: the next plugin queued `payload` for every member of `group` but `except` (null: nobody
   * left out); once per group send, not per member. Default: passed on unchanged. `payload` is lent.
   */
  onGroupSend(group: Group, payload: Uint8Array, except: Channel | null): void {
    group.send(payload, except);
  }
}

/**
 * Passes one frame with the bytes of `payload` on to the next plugin of the chain, as a frame of
 * `channel` (it gets it in its `onMessage` once this call has returned). The bytes are copied.
 * @returns false (and passes nothing) when the channel is dead or closing or an upstream channel,
 * or `payload` is empty or above the broker's frame size limit.
 */
export function forward(channel: Channel, payload: Uint8Array): bool {
  return chainForward(channel.id, payload.dataStart, <usize>payload.byteLength) != 0;
}

/** Like `forward`, with a whole `ArrayBuffer` as the body (e.g. from `String.UTF8.encode`). */
export function forwardBuffer(channel: Channel, payload: ArrayBuffer): bool {
  return chainForward(channel.id, changetype<usize>(payload), <usize>payload.byteLength) != 0;
}
