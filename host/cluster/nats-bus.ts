/**
 * `NatsBus`: this node's one connection to NATS (`@nats-io/transport-node`), with the three things
 * the cluster needs on top of the client:
 *
 * - **Never give up, never block start-up.** `start` returns at once; the bus dials in the
 *   background, and after the first connection the client reconnects forever, both with a jittered exponential backoff
 *   (`CLUSTER_RECONNECT_BASE_MS` doubling to `CLUSTER_RECONNECT_MAX_MS`, full jitter in [½, 1] so
 *   that many brokers do not come back at once). Subscriptions asked for before the first connect
 *   are made when it succeeds; the client restores them itself after a reconnect.
 * - **Nothing buffers without bound.** While not connected, `publish` refuses (the caller drops
 *   and counts); nats.js would otherwise keep every publish in memory until it reconnects. While
 *   connected, bytes published since the last acknowledged flush (a PING/PONG round trip: the
 *   server has processed everything before it) are counted, and past `maxUnackedBytes` `publish`
 *   refuses too.
 * - **A callback never breaks the client.** Each subscription callback runs inside a try/catch
 *   that reports to `onCallbackError`.
 */
import { connect, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import {
  CLUSTER_CONNECT_TIMEOUT_MS,
  CLUSTER_FLUSH_EVERY_BYTES,
  CLUSTER_MAX_UNACKED_BYTES,
  CLUSTER_NATS_MAX_PINGS_OUT,
  CLUSTER_NATS_PING_INTERVAL_MS,
  CLUSTER_RECONNECT_BASE_MS,
  CLUSTER_RECONNECT_MAX_MS,
} from '../limits.js';

/** Where the connection stands. */
export type BusState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** What the bus reports to its owner. */
export interface BusEvents {
  /** Connected: the first time (`first`), or again after losing the connection. */
  onConnected(first: boolean): void;
  /** The first attempt to connect failed; the bus keeps trying. */
  onUnreachable(err: unknown): void;
  /** The connection was lost; the client is reconnecting. */
  onDisconnected(): void;
  /** A subscription callback threw. */
  onCallbackError(subject: string, err: unknown): void;
}

/** Options of `NatsBus`. */
export interface BusOptions {
  /** `nats://host:port` URLs. */
  readonly servers: readonly string[];
  /** Connection name shown by the NATS server (`/connz`): the node id. */
  readonly name: string;
  readonly log: Logger;
  readonly events: BusEvents;
  /** Default `CLUSTER_MAX_UNACKED_BYTES`. */
  readonly maxUnackedBytes?: number;
  /** Random number in [0, 1) for the reconnect jitter (tests pass a fixed one). */
  readonly random?: () => number;
}

interface Wanted {
  readonly queue: string | undefined;
  readonly callback: (msg: Msg) => void;
  sub: Subscription | undefined;
}

/**
 * Wait before reconnect attempt `attempt` (0 first): `base · 2^attempt` capped at `max`, times a
 * jitter in [½, 1].
 */
export function reconnectDelayMs(attempt: number, random: number, baseMs = CLUSTER_RECONNECT_BASE_MS, maxMs = CLUSTER_RECONNECT_MAX_MS): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.max(1, Math.round(ceiling * (0.5 + 0.5 * random)));
}

export class NatsBus {
  readonly #opts: BusOptions;
  readonly #random: () => number;
  readonly #maxUnackedBytes: number;
  readonly #wanted = new Map<string, Wanted>();
  #nc: NatsConnection | undefined;
  #state: BusState = 'connecting';
  #attempt = 0;
  #everConnected = false;
  /** Bytes published and not yet acknowledged by a flush. */
  #unackedBytes = 0;
  /** Bytes published since the last flush was started. */
  #sinceFlushBytes = 0;
  #flushing = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryWake: (() => void) | undefined;
  /** Largest message the server takes (its `max_payload`). */
  #maxPayloadBytes = 1024 * 1024;

  constructor(opts: BusOptions) {
    this.#opts = opts;
    this.#random = opts.random ?? Math.random;
    this.#maxUnackedBytes = opts.maxUnackedBytes ?? CLUSTER_MAX_UNACKED_BYTES;
  }

  get state(): BusState {
    return this.#state;
  }

  /** Whether a publish now would reach the server. */
  get connected(): boolean {
    return this.#state === 'connected';
  }

  /** The server's largest message, in bytes (1 MiB until connected). */
  get maxPayloadBytes(): number {
    return this.#maxPayloadBytes;
  }

  /** Bytes published and not yet acknowledged by the server. */
  get unackedBytes(): number {
    return this.#unackedBytes;
  }

  /** Starts dialing in the background; never throws. */
  start(): void {
    void this.#run();
  }

  async #run(): Promise<void> {
    let nc: NatsConnection | undefined;
    // The first connection is dialed here, so that `close` can stop the retries (nats.js's own
    // `waitOnFirstConnect` loop cannot be cancelled); after it, the client reconnects by itself.
    while (nc === undefined) {
      try {
        nc = await connect({
          servers: [...this.#opts.servers],
          name: this.#opts.name,
          // A node never needs its own messages: its local members got a group send already.
          noEcho: true,
          maxReconnectAttempts: -1,
          reconnectDelayHandler: () => reconnectDelayMs(this.#attempt++, this.#random()),
          timeout: CLUSTER_CONNECT_TIMEOUT_MS,
          pingInterval: CLUSTER_NATS_PING_INTERVAL_MS,
          maxPingOut: CLUSTER_NATS_MAX_PINGS_OUT,
        });
      } catch (err) {
        if (this.#state === 'closed') return;
        if (this.#attempt === 0) this.#opts.events.onUnreachable(err);
        await new Promise<void>((resolve) => {
          this.#retryTimer = setTimeout(resolve, reconnectDelayMs(this.#attempt++, this.#random()));
          this.#retryWake = resolve;
        });
        this.#retryTimer = undefined;
        if ((this.#state as BusState) === 'closed') return;
      }
    }
    if ((this.#state as BusState) === 'closed') {
      await nc.close().catch(() => {});
      return;
    }
    this.#nc = nc;
    void this.#watch(nc);
    for (const [subject, w] of this.#wanted) w.sub = this.#subscribeNow(nc, subject, w);
    this.#connected();
  }

  #connected(): void {
    this.#state = 'connected';
    this.#attempt = 0;
    this.#unackedBytes = 0;
    this.#sinceFlushBytes = 0;
    this.#maxPayloadBytes = this.#nc?.info?.max_payload ?? this.#maxPayloadBytes;
    const first = !this.#everConnected;
    this.#everConnected = true;
    this.#opts.events.onConnected(first);
  }

  async #watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (this.#state === 'closed') return;
      switch (s.type) {
        case 'disconnect':
          if (this.#state === 'connected') {
            this.#state = 'reconnecting';
            // What was published and not acknowledged died with the connection (nats.js discards it).
            this.#unackedBytes = 0;
            this.#opts.events.onDisconnected();
          }
          break;
        case 'reconnect':
          this.#connected();
          break;
        default:
          break;
      }
    }
  }

  /**
   * Publishes `data` (which must not change afterwards: the client keeps a reference until it
   * writes). False when it was not sent: not connected, over the unacknowledged bound, or larger
   * than the server takes.
   */
  publish(subject: string, data: Uint8Array, reply?: string, headers?: MsgHdrs): boolean {
    const nc = this.#nc;
    if (nc === undefined || this.#state !== 'connected') return false;
    if (this.#unackedBytes > this.#maxUnackedBytes || data.length > this.#maxPayloadBytes) return false;
    try {
      nc.publish(subject, data, reply === undefined && headers === undefined ? undefined : { reply, headers });
    } catch {
      return false;
    }
    const bytes = data.length + subject.length + 16;
    this.#unackedBytes += bytes;
    this.#sinceFlushBytes += bytes;
    if (this.#sinceFlushBytes >= CLUSTER_FLUSH_EVERY_BYTES && !this.#flushing) this.#flush(nc);
    return true;
  }

  /** Starts a flush now if anything is unacknowledged (the presence timer calls it). */
  flushSoon(): void {
    const nc = this.#nc;
    if (nc !== undefined && this.#state === 'connected' && this.#sinceFlushBytes > 0 && !this.#flushing) this.#flush(nc);
  }

  #flush(nc: NatsConnection): void {
    const bytes = this.#sinceFlushBytes;
    this.#sinceFlushBytes = 0;
    this.#flushing = true;
    nc.flush().then(
      () => {
        this.#flushing = false;
        this.#unackedBytes = Math.max(0, this.#unackedBytes - bytes);
      },
      () => {
        // Disconnected meanwhile: the count was reset with the connection.
        this.#flushing = false;
      },
    );
  }

  /** Subscribes `callback` to `subject` (now if connected, else once connected). One subscription per subject. */
  subscribe(subject: string, callback: (msg: Msg) => void, queue?: string): void {
    if (this.#wanted.has(subject) || this.#state === 'closed') return;
    const w: Wanted = { queue, callback, sub: undefined };
    this.#wanted.set(subject, w);
    if (this.#nc !== undefined) w.sub = this.#subscribeNow(this.#nc, subject, w);
  }

  /** Ends the subscription to `subject`, if any. */
  unsubscribe(subject: string): void {
    const w = this.#wanted.get(subject);
    if (w === undefined) return;
    this.#wanted.delete(subject);
    try {
      w.sub?.unsubscribe();
    } catch {
      // Closed already.
    }
  }

  /** Whether `subject` is subscribed (or will be once connected). */
  isSubscribed(subject: string): boolean {
    return this.#wanted.has(subject);
  }

  /** Number of subscriptions wanted. */
  get subscriptionCount(): number {
    return this.#wanted.size;
  }

  #subscribeNow(nc: NatsConnection, subject: string, w: Wanted): Subscription | undefined {
    const events = this.#opts.events;
    try {
      return nc.subscribe(subject, {
        queue: w.queue,
        callback: (err, msg) => {
          if (err !== null) return; // only permission errors arrive here; nothing to deliver
          try {
            w.callback(msg);
          } catch (e) {
            events.onCallbackError(subject, e);
          }
        },
      });
    } catch (err) {
      this.#opts.log.error({ err, subject }, 'cluster subscription failed');
      return undefined;
    }
  }

  /**
   * Flushes what is published (bounded by `timeoutMs`, so a dead server cannot hold a drain) and
   * closes the connection. Idempotent.
   */
  async close(timeoutMs = 1000): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#retryTimer);
    this.#retryWake?.();
    const nc = this.#nc;
    this.#nc = undefined;
    this.#wanted.clear();
    if (nc === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([nc.flush().catch(() => {}), deadline]);
    clearTimeout(timer);
    await nc.close().catch(() => {});
  }
}
