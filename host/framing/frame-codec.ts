/**
 * The framing contract: a decoder turns bytes into frames (or one coded error), an encoder turns a
 * body into bytes. Both are pure: no sockets, timers or plugin calls (after ws lib/receiver.js and
 * lib/sender.js).
 */
import type { FrameError } from '../errors.js';

/** Receives the frames a decoder finds, in stream order. */
export interface FrameSink {
  /**
   * One complete frame body. It may be a view into the chunk that was pushed (no copy); Node never
   * reuses a socket's read buffers, so the view stays valid as long as it is referenced. A decoder
   * created with `plainViews` passes plain Uint8Array views instead of Buffers (typed as Buffer
   * here so that ordinary sinks keep Buffer methods): such sinks must declare `Uint8Array`.
   */
  onFrame(body: Buffer): void;
}

/** An incremental decoder bound to one stream. */
export interface FrameDecoder {
  /**
   * Feeds the next chunk of the stream. Every frame completed by it is handed to the sink, in
   * order, before this returns. Returns the protocol error that broke the stream (after the frames
   * that preceded it were delivered), or null. Once an error was returned, the decoder stays failed
   * and returns the same error for every later chunk.
   */
  push(chunk: Buffer): FrameError | null;
  /** Stops delivering frames, also in the middle of a chunk: used when the consumer closes. */
  halt(): void;
}

/** Serialises one frame body. */
export type FrameEncoder = (body: Uint8Array) => Buffer;

/** Names of the framings the broker speaks. */
export const FRAMINGS = ['decimal'] as const;
export type FramingName = (typeof FRAMINGS)[number];
