/**
 * One client connection: its transport, its frame decoder, its lifecycle state and its outbound
 * batch. Frames go to the broker through `ConnectionEvents`; the plugin is never called from here.
 *
 * Outbound frames are not written one by one (a `write` per frame costs ≈ 10× a batched write,
 * performance.md): `send` encodes into the shared `OutboundArena`. Frames a connection queues for
 * itself while its own read chunk is processed (replies) are written once the chunk is done; frames
 * queued from anywhere else (pushes) are flushed once per event-loop turn with `process.nextTick`.
 */
import type { FrameError } from '../errors.js';
import { DecimalDecoder } from '../framing/decimal-decoder.js';
import type { FrameSink } from '../framing/frame-codec.js';
import { decimalHeaderBytes } from '../framing/decimal-encoder.js';
import type { Transport, TransportHandler } from '../transport/transport.js';
import type { CloseReason, PeerInfo } from '../plugin/world.js';
import { isLive, transition, type ConnectionState } from './connection-state.js';
import { OutboundBatch, type OutboundArena } from './outbound-arena.js';

/** What a connection reports to its owner. One shared object serves every connection. */
export interface ConnectionEvents {
  /** A complete frame arrived while the connection is open. */
  onFrame(conn: Connection, body: Buffer): void;
  /**
   * The connection stopped being live (it entered closing or closed). Called exactly once per
   * connection. `notifyPlugin` is false when the plugin instance that knew it is gone.
   */
  onClosed(conn: Connection, reason: CloseReason, notifyPlugin: boolean): void;
  /** The peer broke the framing; `onClosed(…, 'protocol-error')` follows. */
  onProtocolError(conn: Connection, err: FrameError): void;
}

/** Limits a connection enforces. */
export interface ConnectionLimits {
  readonly maxFrameBytes: number;
  readonly maxOutboundBytes: number;
  /** How long a closing connection may take to flush before it is destroyed. */
  readonly closeLingerMs: number;
}

/** A client connection. */
export class Connection implements FrameSink, TransportHandler {
  /** The channel handle the plugin knows this connection by. */
  readonly id: number;
  readonly #transport: Transport;
  readonly #events: ConnectionEvents;
  readonly #limits: ConnectionLimits;
  readonly #decoder: DecimalDecoder;
  readonly #arena: OutboundArena;
  readonly #out = new OutboundBatch();
  #state: ConnectionState = 'connecting';
  #closeReason: CloseReason | undefined;
  #flushScheduled = false;
  #lingerTimer: NodeJS.Timeout | undefined;

  constructor(id: number, transport: Transport, events: ConnectionEvents, limits: ConnectionLimits, arena: OutboundArena) {
    this.id = id;
    this.#arena = arena;
    this.#transport = transport;
    this.#events = events;
    this.#limits = limits;
    this.#decoder = new DecimalDecoder(this, limits.maxFrameBytes);
    // Listen at once so that a peer that resets during handle-connect is noticed; data only flows
    // to the plugin once the state is open.
    transport.attach(this);
  }

  /** Current lifecycle state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Why the connection stopped being live, once it did. */
  get closeReason(): CloseReason | undefined {
    return this.#closeReason;
  }

  /** Who is on the other end, as the plugin sees it. */
  peerInfo(resumed: boolean): PeerInfo {
    return { address: this.#transport.remoteAddress, port: this.#transport.remotePort, transport: this.#transport.kind, resumed };
  }

  /** Remote `address:port` for logs. */
  get remote(): string {
    return `${this.#transport.remoteAddress}:${this.#transport.remotePort}`;
  }

  /** The plugin accepted the connection: frames start flowing. */
  open(): void {
    if (this.#state !== 'connecting') return; // the peer may already be gone
    this.#state = transition(this.#state, 'open');
  }

  /**
   * Queues `src[start, end)` as one frame for the peer (copied now).
   * Returns false, queuing nothing, when the connection is not live, the body exceeds
   * `maxFrameBytes`, or the outbound queue would exceed `maxOutboundBytes`.
   */
  send(src: Uint8Array, start: number, end: number): boolean {
    if (!isLive(this.#state)) return false;
    const len = end - start;
    if (len > this.#limits.maxFrameBytes) return false;
    if (this.#out.bytes + this.#transport.bufferedBytes + decimalHeaderBytes(len) + len > this.#limits.maxOutboundBytes) return false;
    this.#arena.appendFrame(this.#out, src, start, end);
    // Replies to the chunk being read leave when onData finishes; no tick needed.
    if (!this.#flushScheduled && reading !== this) {
      this.#flushScheduled = true;
      process.nextTick(flushConnection, this);
    }
    return true;
  }

  /**
   * Starts a graceful close: stop reading, write what is queued, half-close, and destroy the socket
   * if the peer has not closed within `closeLingerMs`. Does nothing if the connection is no longer
   * live.
   */
  close(reason: CloseReason, notifyPlugin = true): void {
    if (!isLive(this.#state)) return;
    this.#leaveLive('closing', reason, notifyPlugin);
    this.#decoder.halt();
    this.#transport.pause();
    this.flush();
    this.#transport.end();
    this.#lingerTimer = setTimeout(destroyTransport, this.#limits.closeLingerMs, this.#transport);
    this.#lingerTimer.unref();
  }

  /** Closes at once, dropping anything queued. */
  destroy(reason: CloseReason, notifyPlugin = true): void {
    if (isLive(this.#state)) this.#leaveLive('closing', reason, notifyPlugin);
    this.#out.clear();
    this.#transport.destroy();
  }

  /** Writes every queued frame, in one write unless a large frame or another connection interleaved. */
  flush(): void {
    this.#flushScheduled = false;
    if (this.#out.bytes === 0 || this.#state === 'closed') return;
    const segments = this.#out.take();
    if (segments.length === 1) this.#transport.write(segments[0]);
    else this.#transport.writev(segments);
  }

  // FrameSink
  onFrame(body: Buffer): void {
    if (this.#state === 'open') this.#events.onFrame(this, body);
  }

  // TransportHandler
  onData(chunk: Buffer): void {
    if (this.#state !== 'open') return;
    reading = this;
    let err;
    try {
      err = this.#decoder.push(chunk);
    } finally {
      reading = null;
    }
    if (this.#out.bytes > 0 && !this.#flushScheduled) this.flush();
    if (err !== null && this.#state === 'open') {
      this.#events.onProtocolError(this, err);
      this.close('protocol-error');
    }
  }

  onEnd(): void {
    // The peer sent FIN: reply to what it sent, then close our side.
    this.close('peer-closed');
  }

  onClose(): void {
    if (this.#lingerTimer !== undefined) clearTimeout(this.#lingerTimer);
    if (isLive(this.#state)) this.#leaveLive('closed', 'peer-closed', true);
    else this.#state = transition(this.#state, 'closed');
    this.#out.clear();
  }

  onError(): void {
    // ECONNRESET and friends: `close` follows and reports peer-closed.
  }

  #leaveLive(to: 'closing' | 'closed', reason: CloseReason, notifyPlugin: boolean): void {
    this.#state = transition(this.#state, to);
    this.#closeReason = reason;
    this.#events.onClosed(this, reason, notifyPlugin);
  }
}

/** The connection whose read chunk is being decoded right now (frames are handled synchronously). */
let reading: Connection | null = null;

function flushConnection(conn: Connection): void {
  conn.flush();
}

function destroyTransport(transport: Transport): void {
  transport.destroy();
}
