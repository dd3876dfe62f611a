/**
 * One client connection: its transport, its frame decoder, its lifecycle state, its limits and its
 * outbound batch. Frames go to the broker through `ConnectionEvents`; the plugin is never called
 * from here.
 *
 * The transport says how frames arrive (a byte stream in one of the stream framings, decoded
 * here, or whole WebSocket messages) and how they leave (a header codec, or one message per body).
 * Outbound frames are not written one by one (a `write` per frame costs ≈ 10× a batched write,
 * docs/transports.md): `send` encodes into the shared `OutboundArena` with the transport's header. Frames a connection queues for
 * itself while its own read chunk is processed (replies) are written once the chunk is done; frames
 * queued from anywhere else (pushes) are flushed once per event-loop turn with `process.nextTick`.
 *
 * Per-frame bookkeeping is a field write on the coarse clock (heartbeats are swept elsewhere, see
 * heartbeat.ts); the rate limiter and the pre-auth budget exist only when configured.
 */
import type { RateAction } from '../config.js';
import type { FrameError } from '../errors.js';
import { createDecoder, type FrameDecoder, type FrameHeaderCodec, type FrameSink } from '../framing/frame-codec.js';
import { bodiesOfDecimalRun, transcodeDecimalRun } from '../framing/transcode.js';
import type { Transport, TransportHandler } from '../transport/transport.js';
import type { CloseReason, PeerInfo } from '../plugin/world.js';
import { coarseClock, tickClock } from './clock.js';
import { isLive, transition, type ConnectionState } from './connection-state.js';
import type { HeartbeatTarget } from './heartbeat.js';
import { OutboundBatch, type OutboundArena } from './outbound-arena.js';
import { RateLimiter, type RatePolicy } from './rate-limiter.js';

/** What a connection reports to its owner. One shared object serves every connection. */
export interface ConnectionEvents {
  /** A complete, non-heartbeat frame arrived while the connection is open and within its limits. */
  onFrame(conn: Connection, body: Uint8Array): void;
  /**
   * The connection stopped being live (it entered closing or closed). Called exactly once per
   * connection. `notifyPlugin` is false when the plugin instance that knew it is gone.
   */
  onClosed(conn: Connection, reason: CloseReason, notifyPlugin: boolean): void;
  /** The peer broke the framing; `onClosed(…, 'protocol-error')` follows. */
  onProtocolError(conn: Connection, err: FrameError): void;
  /** A limit closed the connection or dropped a frame (for counters and logs). */
  onLimit(conn: Connection, what: 'rate-drop' | 'rate-close' | 'pre-auth-exceeded' | 'slow-consumer'): void;
  /** The transport closed for good (after `onClosed`). */
  onTransportClosed(conn: Connection): void;
}

/** Limits and policies a connection enforces; one frozen object shared by all connections. */
export interface ConnectionPolicy extends RatePolicy {
  readonly maxFrameBytes: number;
  readonly maxOutboundBytes: number;
  /** How long a closing connection may take to flush before it is destroyed. */
  readonly closeLingerMs: number;
  readonly rateAction: RateAction;
  /** Whether the plugin must authenticate connections (an auth deadline is set). */
  readonly authRequired: boolean;
  readonly preAuthMaxFrames: number;
  readonly preAuthMaxBytes: number;
}

const EMPTY = new Uint8Array(0);

/** A client connection. */
export class Connection implements FrameSink, TransportHandler, HeartbeatTarget {
  /** The channel handle the plugin knows this connection by. */
  readonly id: number;
  readonly openedMs: number;
  lastFrameMs: number;
  lastPingMs: number;
  // Traffic counters (#11), read by metrics and the admin API at scrape time: a field increment
  // per frame or chunk, nothing more, on the message path.
  /** Frames received (heartbeats included). */
  framesIn = 0;
  /** Frames queued for the peer (heartbeats included). */
  framesOut = 0;
  /** Bytes read from the peer, framing included. */
  bytesIn = 0;
  /** Bytes handed to the transport, framing included. */
  bytesOut = 0;
  readonly #transport: Transport;
  readonly #events: ConnectionEvents;
  readonly #policy: ConnectionPolicy;
  /** Null for message transports (WebSocket): they deliver whole frames. */
  readonly #decoder: FrameDecoder | null;
  /** Header of outbound frames; null when each queued Buffer is one message body (WebSocket with compression). */
  readonly #codec: FrameHeaderCodec | null;
  readonly #arena: OutboundArena;
  readonly #out = new OutboundBatch();
  readonly #rate: RateLimiter | null;
  #state: ConnectionState = 'connecting';
  #closeReason: CloseReason | undefined;
  #flushScheduled = false;
  #authenticated: boolean;
  #preAuthFrames = 0;
  #preAuthBytes = 0;
  /** The broker sent a heartbeat that the peer has not answered yet. */
  #pingOutstanding = false;
  #lingerTimer: NodeJS.Timeout | undefined;
  /** False once reading stopped (drain, close): a message transport may still deliver a message. */
  #reading = true;

  constructor(id: number, transport: Transport, events: ConnectionEvents, policy: ConnectionPolicy, arena: OutboundArena) {
    this.id = id;
    this.#arena = arena;
    this.#transport = transport;
    this.#events = events;
    this.#policy = policy;
    this.#decoder = transport.inbound === 'messages' ? null : createDecoder(transport.inbound, this, policy.maxFrameBytes, { plainViews: true });
    this.#codec = transport.outbound;
    const now = tickClock();
    this.openedMs = this.lastFrameMs = this.lastPingMs = now;
    this.#rate = RateLimiter.enabled(policy) ? new RateLimiter(policy, now) : null;
    this.#authenticated = !policy.authRequired;
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

  /** Whether the plugin authenticated the connection (true when no auth deadline is set). */
  get authenticated(): boolean {
    return this.#authenticated;
  }

  /** Peer IP address. */
  get remoteAddress(): string {
    return this.#transport.remoteAddress;
  }

  /** Who is on the other end, as the plugin sees it. */
  peerInfo(resumed: boolean): PeerInfo {
    const t = this.#transport;
    return { address: t.remoteAddress, port: t.remotePort, transport: t.kind, secure: t.secure, resumed };
  }

  /** Remote `address:port` for logs. */
  get remote(): string {
    return `${this.#transport.remoteAddress}:${this.#transport.remotePort}`;
  }

  /** Bytes queued for the peer and not yet taken by the kernel. */
  get outboundBytes(): number {
    return this.#out.bytes + this.#transport.bufferedBytes;
  }

  /** The plugin accepted the connection: frames start flowing. */
  open(): void {
    if (this.#state !== 'connecting') return; // the peer may already be gone
    this.#state = transition(this.#state, 'open');
  }

  /** The plugin vouched for the peer: the auth deadline and pre-auth budget no longer apply. */
  authenticate(): boolean {
    if (!isLive(this.#state)) return false;
    this.#authenticated = true;
    return true;
  }

  /**
   * Queues `src[start, end)` as one frame for the peer (copied now).
   * Returns false, queuing nothing, when the connection is not live or the body exceeds
   * `maxFrameBytes`. When the outbound queue would pass `maxOutboundBytes` the peer is not reading:
   * returns false and closes the connection (slow-consumer), dropping what is queued.
   */
  send(src: Uint8Array, start: number, end: number): boolean {
    if (!isLive(this.#state)) return false;
    const len = end - start;
    if (len > this.#policy.maxFrameBytes) return false;
    const codec = this.#codec;
    if (this.#out.bytes + this.#transport.bufferedBytes + (codec?.headerBytes(len) ?? 0) + len > this.#policy.maxOutboundBytes) {
      this.overflow();
      return false;
    }
    if (codec !== null) this.#arena.appendFrame(this.#out, src, start, end, codec);
    else this.#out.push(Buffer.from(src.subarray(start, end))); // one message per body
    this.framesOut++;
    // Replies to the chunk being read leave when onData finishes; no tick needed.
    if (!this.#flushScheduled && reading !== this) {
      this.#flushScheduled = true;
      process.nextTick(flushConnection, this);
    }
    return true;
  }

  /**
   * Queues `frames`, one or more frames already encoded in the decimal framing (`<len>\n<body>`
   * each), without copying when this connection speaks it: the buffer is shared with other
   * connections (group fan-out) and must never be written again. Other wires get the run
   * re-encoded once per run (framing/transcode.ts). Same rules as `send`: false when not live; past
   * `maxOutboundBytes` the connection is closed (slow-consumer) and false returned. `frameCount`: how many
   * frames `frames` holds (for counters).
   */
  sendEncoded(frames: Buffer, frameCount = 1): boolean {
    if (!isLive(this.#state)) return false;
    const codec = this.#codec;
    const bodies = codec === null ? bodiesOfDecimalRun(frames) : null;
    const encoded = codec === null ? null : transcodeDecimalRun(frames, codec);
    const size = encoded !== null ? encoded.length : bodies!.reduce((n, b) => n + b.length, 0);
    if (this.#out.bytes + this.#transport.bufferedBytes + size > this.#policy.maxOutboundBytes) {
      this.overflow();
      return false;
    }
    if (encoded !== null) this.#out.push(encoded);
    else for (const b of bodies!) this.#out.push(b);
    this.framesOut += frameCount;
    if (!this.#flushScheduled && reading !== this) {
      this.#flushScheduled = true;
      process.nextTick(flushConnection, this);
    }
    return true;
  }

  /**
   * The peer is not reading: more than `maxOutboundBytes` would queue for it. Closes at once as
   * `slow-consumer`, dropping the queue (also called for a plugin in a worker, whose
   * `channel-send` made that decision on its side of the thread boundary).
   */
  overflow(): void {
    if (!isLive(this.#state)) return;
    this.#events.onLimit(this, 'slow-consumer');
    this.destroy('slow-consumer');
  }

  // HeartbeatTarget
  sendPing(): void {
    // A transport heartbeat of its own (WebSocket ping) is answered by the peer's stack (pong);
    // otherwise an empty frame, and the peer's next empty frame is its answer.
    if (this.#transport.ping !== undefined) {
      this.#transport.ping();
      return;
    }
    this.#pingOutstanding = true;
    this.send(EMPTY, 0, 0);
  }

  expire(reason: 'heartbeat-timeout' | 'auth-timeout'): void {
    this.close(reason);
  }

  /**
   * Stops reading from the peer (used while draining); frames already read are handled.
   */
  stopReading(): void {
    this.#decoder?.halt();
    this.#reading = false;
    this.#transport.pause();
  }

  /**
   * Starts a graceful close: stop reading, write what is queued, half-close, and destroy the socket
   * if the peer has not closed within `closeLingerMs`. Does nothing if the connection is no longer
   * live.
   */
  close(reason: CloseReason, notifyPlugin = true): void {
    if (!isLive(this.#state)) return;
    this.#leaveLive('closing', reason, notifyPlugin);
    this.stopReading();
    this.flush();
    this.#transport.end(reason);
    this.#lingerTimer = setTimeout(destroyTransport, this.#policy.closeLingerMs, this.#transport);
    this.#lingerTimer.unref();
  }

  /** Closes at once, dropping anything queued. */
  destroy(reason: CloseReason, notifyPlugin = true): void {
    if (isLive(this.#state)) this.#leaveLive('closing', reason, notifyPlugin);
    this.#decoder?.halt();
    this.#reading = false;
    this.#out.clear();
    this.#transport.destroy();
  }

  /** Writes every queued frame, in one write unless a large frame or another connection interleaved. */
  flush(): void {
    this.#flushScheduled = false;
    if (this.#state === 'closed') return;
    const out = this.#out;
    if (out.segments === null && out.slab !== null) {
      // The usual case: one contiguous range in the shared slab.
      const { slab, start, end } = out;
      out.clear();
      this.bytesOut += end - start;
      const t = this.#transport;
      const direct = t.copiesWrites === true && t.bufferedBytes === 0;
      t.write(slab.subarray(start, end));
      // Nothing left buffered means the write completed synchronously: libuv handed the bytes to
      // the kernel and keeps no reference, so the range can be reused at once. A transport that
      // copies its writes (TLS) has consumed them when nothing was queued before this write.
      if (direct || t.bufferedBytes === 0) this.#arena.release(slab, start, end);
      return;
    }
    const queued = out.take();
    if (queued === null) return;
    if (!Array.isArray(queued)) {
      this.bytesOut += queued.length;
      this.#transport.write(queued);
      return;
    }
    for (const b of queued) this.bytesOut += b.length;
    if (queued.length === 1) this.#transport.write(queued[0]);
    else this.#transport.writev(queued);
  }

  // FrameSink
  onFrame(body: Uint8Array): void {
    if (this.#state !== 'open') return;
    this.framesIn++;
    const now = coarseClock.nowMs;
    this.lastFrameMs = now;
    if (this.#rate !== null && !this.#rate.take(body.length, now)) {
      if (this.#policy.rateAction === 'drop') {
        this.#events.onLimit(this, 'rate-drop');
        return;
      }
      this.#events.onLimit(this, 'rate-close');
      this.close('rate-limited');
      return;
    }
    if (body.length === 0) {
      // A heartbeat: answered by the broker unless it answers the broker's own ping; never
      // delivered to the plugin.
      if (this.#pingOutstanding) this.#pingOutstanding = false;
      else this.send(EMPTY, 0, 0);
      return;
    }
    if (!this.#authenticated) {
      this.#preAuthBytes += body.length;
      if (++this.#preAuthFrames > this.#policy.preAuthMaxFrames || this.#preAuthBytes > this.#policy.preAuthMaxBytes) {
        this.#events.onLimit(this, 'pre-auth-exceeded');
        this.close('auth-timeout');
        return;
      }
    }
    this.#events.onFrame(this, body);
  }

  // TransportHandler
  onData(chunk: Buffer): void {
    if (this.#state !== 'open') return;
    this.bytesIn += chunk.length;
    tickClock();
    // Module state, not an alias: `send` compares against it to tell replies from pushes.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    reading = this;
    let err;
    try {
      err = this.#decoder!.push(chunk);
    } finally {
      reading = null;
    }
    if (this.#out.bytes > 0 && !this.#flushScheduled) this.flush();
    if (err !== null && this.#state === 'open') {
      this.#events.onProtocolError(this, err);
      this.close('protocol-error');
    }
  }

  onMessage(body: Uint8Array): void {
    if (this.#state !== 'open' || !this.#reading) return;
    tickClock();
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    reading = this;
    try {
      this.onFrame(body);
    } finally {
      reading = null;
    }
    // Every message of one socket read is delivered in one go (ws parses the chunk synchronously):
    // their replies leave together, at the end of the tick.
    if (this.#out.bytes > 0 && !this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(flushConnection, this);
    }
  }

  onLife(): void {
    this.lastFrameMs = tickClock();
  }

  onProtocolError(err: FrameError): void {
    if (!isLive(this.#state)) return;
    this.#events.onProtocolError(this, err);
    this.close('protocol-error');
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
    this.#events.onTransportClosed(this);
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
