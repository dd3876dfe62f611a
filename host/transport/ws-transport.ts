/**
 * A `ws` WebSocket as a `Transport`. `ws` does the protocol (handshake, masking, fragments,
 * control frames, UTF-8 checks, `maxPayload` before buffering); this file adds what it does not:
 *
 * - Outbound batching. ws writes each `send()` on its own; the broker encodes every frame queued
 *   for a peer during one read or tick into one buffer (framing/websocket-encoder.ts) and hands it
 *   to the socket in one write. Those bytes go to the same socket ws writes its control frames to,
 *   in call order (with compression off ws's sender never queues, so nothing reorders). With
 *   `--ws-compression` each frame goes through `ws.send` instead (`outbound` is null), corked.
 * - Close codes: a close reason becomes close code 4000 + its WIT discriminant.
 * - Protocol errors become `FrameError`s (ws has already answered them with its RFC 6455 code).
 */
import type net from 'node:net';
import type { WebSocket } from 'ws';
import { FrameError, WsProtocolError } from '../errors.js';
import { WEBSOCKET_HEADER, type FrameHeaderCodec } from '../framing/frame-codec.js';
import { closeReasonCode, type CloseReason } from '../plugin/world.js';
import type { Transport, TransportHandler } from './transport.js';

/** WebSocket close code of a close reason: 4000 + its discriminant (README, WIT `close-reason`). */
export function closeCodeFor(reason: CloseReason): number {
  return 4000 + closeReasonCode(reason);
}

/** `ws`'s readyState OPEN. */
const OPEN = 1;

const kHandler = Symbol('plugbroker.transportHandler');
const kMaxFrameBytes = Symbol('plugbroker.maxFrameBytes');
type HandledWs = WebSocket & { [kHandler]: TransportHandler; [kMaxFrameBytes]: number };
type HandledSocket = net.Socket & { [kHandler]: TransportHandler };

// Module-level listeners, `this` bound by the EventEmitter: no closures per connection.
function onWsMessage(this: WebSocket, data: Buffer): void {
  (this as HandledWs)[kHandler].onMessage(data);
}
function onWsLife(this: WebSocket): void {
  (this as HandledWs)[kHandler].onLife();
}
function onWsError(this: WebSocket, err: Error & { code?: string }): void {
  const ws = this as HandledWs;
  if (typeof err.code === 'string' && err.code.startsWith('WS_ERR_')) ws[kHandler].onProtocolError(toFrameError(err, err.code, ws[kMaxFrameBytes]));
  else ws[kHandler].onError(err);
}
function onSocketClose(this: HandledSocket): void {
  this[kHandler].onClose();
}

/** A ws protocol error as the broker's coded error (an oversize message is PB_ERR_FRAME_TOO_LARGE, as on TCP). */
function toFrameError(err: Error, wsCode: string, maxFrameBytes: number): FrameError {
  if (wsCode === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH')
    return new FrameError('PB_ERR_FRAME_TOO_LARGE', `WebSocket message exceeds maxFrameBytes (${maxFrameBytes})`, 0);
  return new WsProtocolError(wsCode, err.message);
}

/** A WebSocket connection as a `Transport`. */
export class WsTransport implements Transport {
  readonly kind = 'websocket' as const;
  readonly inbound = 'messages' as const;
  readonly secure: boolean;
  /** wss:// without compression: frames go straight to the TLS socket, which copies (tcp-transport.ts). */
  readonly copiesWrites: boolean;
  readonly outbound: FrameHeaderCodec | null;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly #ws: WebSocket;
  readonly #socket: net.Socket;

  /**
   * @param ws the upgraded WebSocket.
   * @param socket the socket `ws` runs on (a TLS socket for `wss://`).
   * @param opts.compression permessage-deflate was negotiated: frames go through `ws.send`.
   * @param opts.maxFrameBytes the `maxPayload` ws enforces (for error messages).
   */
  constructor(ws: WebSocket, socket: net.Socket, opts: { secure: boolean; compression: boolean; maxFrameBytes: number }) {
    this.#ws = ws;
    (ws as HandledWs)[kMaxFrameBytes] = opts.maxFrameBytes;
    this.#socket = socket;
    this.secure = opts.secure;
    this.copiesWrites = opts.secure && !opts.compression;
    this.outbound = opts.compression ? null : WEBSOCKET_HEADER;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
  }

  get bufferedBytes(): number {
    return this.#ws.bufferedAmount;
  }

  attach(handler: TransportHandler): void {
    const ws = this.#ws as HandledWs;
    ws[kHandler] = handler;
    ws.on('message', onWsMessage);
    ws.on('pong', onWsLife);
    ws.on('ping', onWsLife);
    ws.on('error', onWsError);
    const s = this.#socket as HandledSocket;
    s[kHandler] = handler;
    // ws's own close listener ran first (it was attached at the upgrade): messages still buffered
    // in the socket have been delivered when this runs.
    s.on('close', onSocketClose);
  }

  write(data: Buffer): void {
    // After a close frame (ours or the peer's) nothing more may be sent (RFC 6455 §5.5.1).
    if (this.#ws.readyState !== OPEN) return;
    if (this.outbound !== null) this.#socket.write(data);
    else this.#ws.send(data, { binary: true });
  }

  writev(data: readonly Buffer[]): void {
    if (this.#ws.readyState !== OPEN) return;
    const s = this.#socket;
    s.cork();
    for (const b of data) {
      if (this.outbound !== null) s.write(b);
      else this.#ws.send(b, { binary: true });
    }
    s.uncork();
  }

  ping(): void {
    if (this.#ws.readyState === OPEN) this.#ws.ping();
  }

  pause(): void {
    this.#ws.pause();
  }

  end(reason: CloseReason = 'closed-by-plugin'): void {
    this.#ws.close(closeCodeFor(reason), reason);
    // The closing handshake needs the peer's close frame read: a socket paused by `pause` (the
    // connection stops reading as it closes) would hold the socket open until the close linger.
    // Messages that still arrive are dropped by the connection, which no longer reads.
    this.#ws.resume();
  }

  destroy(): void {
    this.#ws.terminate();
  }
}
