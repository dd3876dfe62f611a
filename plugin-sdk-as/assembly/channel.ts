// `Channel`: one peer connection, as plugin code sees it.

import { channelAuthenticate, channelClose, channelGetData, channelSend, channelSetData } from "./abi/imports";
import { beginListResult, endListResult, lowerUtf8, releaseUtf8, utf8ScratchPtr } from "./abi/canonical";

/**
 * A connection to one peer (WIT `channel`, a non-zero u32 handle).
 *
 * A `Channel` costs nothing to create and may be kept as long as you like: it is the handle
 * itself, typed (an `@unmanaged` class whose reference *is* the u32 id, so the SDK never
 * allocates one and the garbage collector never sees one). The same connection always gives an
 * equal reference, so `a == b`, `Map<Channel, T>` and `Set<Channel>` work, and `Channel | null`
 * uses the never-valid handle 0 as `null`.
 *
 * After `Plugin.onBroken(channel, …)` has returned the channel is dead: `send` returns false and
 * `close` does nothing. The broker does not reuse a handle while the plugin may still hold it.
 */
@unmanaged @final
export class Channel {
  private constructor() {}

  /** The channel for handle `id` (as given by `Channel.id`). Handle 0 is never a valid channel. */
  // @ts-ignore: decorator
  @inline static fromId(id: u32): Channel {
    return changetype<Channel>(<usize>id);
  }

  /** The channel's u32 handle, unique among all live and recently closed channels. */
  get id(): u32 {
    return <u32>changetype<usize>(this);
  }

  /**
   * Queues one frame with the bytes of `payload` as its body. The broker copies the bytes before
   * this returns: reuse or mutate `payload` freely afterwards.
   * @returns false (and sends nothing) when the channel is dead or closing, the payload exceeds the
   * broker's frame size limit, or the peer's outbound queue is full.
   */
  send(payload: Uint8Array): bool {
    return channelSend(this.id, payload.dataStart, <usize>payload.byteLength) != 0;
  }

  /** Like `send`, with a whole `ArrayBuffer` as the body (e.g. from `String.UTF8.encode`). */
  sendBuffer(payload: ArrayBuffer): bool {
    return channelSend(this.id, changetype<usize>(payload), <usize>payload.byteLength) != 0;
  }

  /**
   * Queues one frame whose body is `text` encoded as UTF-8 (lone surrogates become U+FFFD).
   * Encodes into a reused scratch block: no allocation per call.
   * @returns as `send`.
   */
  sendString(text: string): bool {
    let len = lowerUtf8(text);
    let sent = channelSend(this.id, utf8ScratchPtr(), len) != 0;
    releaseUtf8();
    return sent;
  }

  /**
   * Closes the channel after the frames already queued for it are written.
   * `Plugin.onBroken(this, CloseReason.ClosedByPlugin)` follows once the current call returns.
   * Closing a dead or closing channel does nothing.
   */
  close(): void {
    channelClose(this.id);
  }

  /**
   * Marks the channel authenticated: the broker's auth deadline (`--auth-deadline-ms`) and its
   * pre-authentication frame and byte budget stop applying. Call it once the peer proved who it
   * is (typically in `onMessage`, after checking a login frame).
   * @returns false when the channel is dead or closing.
   */
  authenticate(): bool {
    return channelAuthenticate(this.id) != 0;
  }

  /**
   * Stores the bytes of `data` as the channel's data, replacing what was stored; an empty array
   * clears it. Channel data is kept by the broker, not in plugin memory: it survives a trap (read
   * it back in `onConnect` when `peer.resumed`) and a hot swap, and goes when the channel ends
   * (it is still readable in `onBroken`). The broker copies the bytes before this returns.
   * @returns false (and keeps what was stored) when `data` is above `--channel-data-max-bytes`
   * (default 4096), or the channel is dead or ending (inside its `onBroken`).
   */
  setData(data: Uint8Array): bool {
    return channelSetData(this.id, data.dataStart, <usize>data.byteLength) != 0;
  }

  /** Like `setData`, with a whole `ArrayBuffer`. */
  setDataBuffer(data: ArrayBuffer): bool {
    return channelSetData(this.id, changetype<usize>(data), <usize>data.byteLength) != 0;
  }

  /** Like `setData`, with `text` encoded as UTF-8 (no allocation: a reused scratch block). */
  setDataString(text: string): bool {
    let len = lowerUtf8(text);
    let stored = channelSetData(this.id, utf8ScratchPtr(), len) != 0;
    releaseUtf8();
    return stored;
  }

  /**
   * The channel's data, as last stored with `setData*`: a fresh `ArrayBuffer` the plugin owns
   * (empty when nothing was stored, or the channel is dead). One allocation and one copy (made by
   * the broker straight into the new buffer).
   */
  getData(): ArrayBuffer {
    channelGetData(this.id, beginListResult());
    return endListResult();
  }

  /** `getData()` decoded as UTF-8 (the counterpart of `setDataString`). */
  getDataString(): string {
    return String.UTF8.decode(this.getData());
  }

  /** `channel#<id>`, for log lines. */
  toString(): string {
    return "channel#" + this.id.toString();
  }
}
