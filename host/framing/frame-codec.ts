/**
 * The framing contract: a decoder turns bytes into frames (or one coded error), an encoder turns a
 * body into bytes. Both are pure: no sockets, timers or plugin calls (after ws lib/receiver.js and
 * lib/sender.js). `createDecoder` and `HEADER_CODECS` pick the implementation by framing name.
 */
import type { FrameError } from '../errors.js';
import { BinaryDecoder } from './binary-decoder.js';
import { BINARY_HEADER_BYTES, writeBinaryHeader } from './binary-encoder.js';
import { DecimalDecoder } from './decimal-decoder.js';
import { decimalHeaderBytes, writeDecimalHeader } from './decimal-encoder.js';
import { websocketHeaderBytes, writeWebsocketHeader } from './websocket-encoder.js';

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

/** Names of the byte-stream framings the broker speaks on `tcp://` and `tls://` listeners. */
export const FRAMINGS = ['decimal', 'binary'] as const;
export type FramingName = (typeof FRAMINGS)[number];

/**
 * How outbound frames are delimited on one wire: the header in front of each body. Bodies are
 * copied behind the header unchanged, so a writer of many frames (the outbound arena, group
 * fan-out) needs nothing else.
 */
export interface FrameHeaderCodec {
  /** `decimal` and `binary` are the stream framings; `websocket` is an unmasked binary WebSocket frame. */
  readonly name: FramingName | 'websocket';
  /** Header bytes in front of a body of `length` bytes. */
  headerBytes(length: number): number;
  /** Writes the header for a body of `length` bytes at `out[offset]`; returns the offset after it. */
  writeHeader(out: Uint8Array, offset: number, length: number): number;
}

/** `<length>\n` (README, The wire protocol). */
export const DECIMAL_HEADER: FrameHeaderCodec = Object.freeze({ name: 'decimal', headerBytes: decimalHeaderBytes, writeHeader: writeDecimalHeader });
/** 4-byte big-endian length. */
export const BINARY_HEADER: FrameHeaderCodec = Object.freeze({ name: 'binary', headerBytes: () => BINARY_HEADER_BYTES, writeHeader: writeBinaryHeader });
/** A final, unmasked, binary WebSocket data frame (RFC 6455 §5.2): what a server sends. */
export const WEBSOCKET_HEADER: FrameHeaderCodec = Object.freeze({ name: 'websocket', headerBytes: websocketHeaderBytes, writeHeader: writeWebsocketHeader });

/** The header codec of a stream framing. */
export function headerCodecFor(framing: FramingName): FrameHeaderCodec {
  return framing === 'binary' ? BINARY_HEADER : DECIMAL_HEADER;
}

/**
 * A decoder for `framing` bound to `sink`.
 * @param maxFrameBytes largest body accepted; a larger declared length fails the stream with
 *   `PB_ERR_FRAME_TOO_LARGE` before any body byte is buffered.
 * @param opts.plainViews see `DecimalDecoder`.
 */
export function createDecoder(framing: FramingName, sink: FrameSink, maxFrameBytes: number, opts: { plainViews?: boolean } = {}): FrameDecoder {
  return framing === 'binary' ? new BinaryDecoder(sink, maxFrameBytes, opts) : new DecimalDecoder(sink, maxFrameBytes, opts);
}
