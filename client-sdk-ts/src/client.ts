/**
 * The client core, shared by the browser and the Node build: the state machine
 * (`disconnected → connecting → connected`), typed events, heartbeats, reconnects with full-jitter
 * backoff and the terminal reasons. It talks to the network only through a `TransportFactory`
 * (transport.ts), which each build supplies.
 */
import { backoffDelayMs } from './backoff.js';
import { reasonFromCloseCode, type CloseReason } from './close-reason.js';
import { TypedEmitter } from './emitter.js';
import { ClientError, FrameError, FrameTooLargeError, IdleTimeoutError, ConnectTimeoutError } from './errors.js';
import { Heartbeat } from './heartbeat.js';
import { resolveClientOptions, type BrokerClientOptions, type ResolvedClientOptions } from './options.js';
import type { ClientTransport, TransportCloseInfo, TransportEvents, TransportFactory } from './transport.js';
import { parseBrokerUrl, type BrokerTarget, type TransportKind } from './url.js';

/** Where the client is: not connected (maybe waiting to reconnect), opening a connection, or connected. */
export type ClientState = 'disconnected' | 'connecting' | 'connected';

/** `connected`: a connection is open; frames may be sent. */
export interface ConnectedEvent {
  readonly url: string;
  /** `websocket` (`ws://`, `wss://`) or `tcp` (`tcp://`, `tls://`). */
  readonly transport: TransportKind;
  /** True over `wss://` and `tls://`. */
  readonly secure: boolean;
  /** `decimal` or `binary` over `tcp://`/`tls://`; undefined over WebSocket. */
  readonly framing: 'decimal' | 'binary' | undefined;
  /** How many connections this client opened so far, this one included (2 and up: a reconnect). */
  readonly connectionCount: number;
}

/** `disconnected`: the connection ended, or an attempt to open one failed. */
export interface DisconnectedEvent {
  /**
   * Why the broker closed the connection, when the transport said so: over `ws://`/`wss://` the
   * close code 4000–4010 names it (`shutdown`, `refused-by-plugin`, …). Undefined over
   * `tcp://`/`tls://` (they carry no reason), when the connection was lost, or when the client ended it.
   */
  readonly reason: CloseReason | undefined;
  /** The WebSocket close code; undefined over `tcp://`/`tls://` and when no connection was open. */
  readonly code: number | undefined;
  /** What failed on the client's side, when something did (`error.code`: `PB_ERR_CLIENT_CONNECT_FAILED`, …). */
  readonly error: ClientError | undefined;
  /** True when an open connection ended; false when an attempt to open one failed. */
  readonly wasConnected: boolean;
  /** True when `close()` ended it. */
  readonly closedByClient: boolean;
  /** True when the client will try again: a `reconnecting` event follows at once. */
  readonly willReconnect: boolean;
}

/** `reconnecting`: the next attempt is scheduled. */
export interface ReconnectingEvent {
  /** 1 for the first retry after a connection ended, counting up while attempts fail. */
  readonly attempt: number;
  /** How long the client waits before this attempt, ms (full jitter: uniform in [0, ceiling]). */
  readonly delayMs: number;
}

/** Every event of a `BrokerClient` and its listener's argument. */
export interface BrokerClientEvents {
  connected: ConnectedEvent;
  /** One frame from the broker (heartbeats are answered by the client and not delivered). */
  message: Uint8Array;
  disconnected: DisconnectedEvent;
  reconnecting: ReconnectingEvent;
}

/** Every transition the state machine allows. */
const ALLOWED: Record<ClientState, readonly ClientState[]> = {
  disconnected: ['connecting'],
  connecting: ['connected', 'disconnected'],
  connected: ['disconnected'],
};

/** How long a graceful `close()` waits for the broker before dropping the connection. */
const CLOSE_LINGER_MS = 2000;

/**
 * A connection to a broker that reconnects by itself. Subclassed by each build (browser.ts,
 * node.ts), which supplies the transports; use those `BrokerClient`s.
 */
export class BrokerClientCore extends TypedEmitter<BrokerClientEvents> {
  /** The broker URL. */
  readonly url: string;
  readonly #target: BrokerTarget;
  readonly #options: ResolvedClientOptions;
  readonly #factory: TransportFactory;
  #state: ClientState = 'disconnected';
  #transport: ClientTransport | null = null;
  #heartbeat: Heartbeat | null = null;
  /** A heartbeat the client sent is not answered yet, so the next empty frame is the answer. */
  #pingOutstanding = false;
  /** Attempts that failed in a row since the last open connection. */
  #retries = 0;
  #connections = 0;
  #closing = false;
  /** No further attempt will be made: `close()`, a terminal reason, giving up or reconnect off. */
  #stopped = false;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  #queue: Array<Uint8Array | string> = [];
  #closeWaiters: Array<() => void> = [];

  /**
   * Checks `url` and `options` and starts connecting at once (listeners added right after the
   * constructor returns see every event).
   * @throws {InvalidUrlError} for a URL the client cannot use.
   * @throws {InvalidOptionError} for an option out of its domain.
   */
  protected constructor(url: string, options: BrokerClientOptions, factory: TransportFactory, extraOptions: readonly string[] = []) {
    super();
    this.#target = parseBrokerUrl(url);
    this.#options = resolveClientOptions(options, extraOptions);
    this.#factory = factory;
    this.url = url;
    this.#open();
  }

  /** The target the URL names (scheme, host, port, framing). */
  protected get target(): BrokerTarget {
    return this.#target;
  }

  /** Current state. */
  get state(): ClientState {
    return this.#state;
  }

  /** Largest frame body `send()` accepts and the client decodes, bytes. */
  get maxFrameBytes(): number {
    return this.#options.maxFrameBytes;
  }

  /**
   * Sends one frame to the broker: bytes as they are, a string as UTF-8 (over WebSocket as a text
   * message, which the broker hands to the plugin as its UTF-8 bytes).
   *
   * Returns true when the frame was handed to the connection, false when the client is not
   * connected. With `offlineQueueMaxFrames` > 0, a frame sent while not connected is held instead
   * (true) until the queue is full (false) and sent once connected. An empty body is a heartbeat,
   * which the broker answers and never hands to the plugin.
   * @throws {FrameTooLargeError} when the body is above `maxFrameBytes` (nothing is sent).
   */
  send(data: Uint8Array | string): boolean {
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) throw new TypeError('send() takes a Uint8Array or a string');
    const max = this.#options.maxFrameBytes;
    // A UTF-16 unit is at most 3 UTF-8 bytes: encode to measure only when the string may be too long.
    const bytes = typeof data === 'string' ? (data.length * 3 <= max ? 0 : new TextEncoder().encode(data).length) : data.length;
    if (bytes > max) throw new FrameTooLargeError(bytes, max, 0);
    if (this.#state === 'connected' && this.#transport !== null) {
      this.#transport.send(data);
      return true;
    }
    if (this.#stopped || this.#queue.length >= this.#options.offlineQueueMaxFrames) return false;
    // A copy: the caller may reuse its array before the client connects.
    this.#queue.push(typeof data === 'string' ? data : data.slice());
    return true;
  }

  /**
   * Closes the connection and stops reconnecting: a WebSocket close handshake (code 1000) or a TCP
   * half-close after what is queued, dropped if the broker has not closed within 2 s. A pending
   * reconnect is cancelled, the offline queue discarded. `disconnected` (with `closedByClient`)
   * follows when a connection or an attempt was open. The promise resolves once the transport is
   * closed. Calling it again does nothing more.
   */
  close(): Promise<void> {
    this.#closing = this.#stopped = true;
    this.#queue = [];
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    const transport = this.#transport;
    if (transport === null) return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.#closeWaiters.push(resolve));
    if (this.#lingerTimer === undefined) {
      this.#heartbeat?.stop();
      // An attempt still opening has nothing to flush: drop it.
      if (this.#state === 'connecting') transport.destroy();
      else transport.close();
      this.#lingerTimer = setTimeout(() => transport.destroy(), CLOSE_LINGER_MS);
    }
    return closed;
  }

  #setState(to: ClientState): void {
    if (!ALLOWED[this.#state].includes(to)) throw new Error(`illegal client state transition ${this.#state} → ${to}`);
    this.#state = to;
  }

  #open(): void {
    this.#reconnectTimer = undefined;
    this.#setState('connecting');
    this.#pingOutstanding = false;
    let transport: ClientTransport | null = null;
    const events: TransportEvents = {
      onOpen: () => {
        if (this.#transport === transport) this.#onOpen();
      },
      onFrame: (body) => {
        if (this.#transport !== transport || this.#state !== 'connected') return;
        this.#heartbeat?.seen();
        this.emit('message', body);
      },
      onHeartbeat: () => {
        if (this.#transport !== transport || this.#state !== 'connected') return;
        this.#heartbeat?.seen();
        // Answer the broker's heartbeat, unless this one answers ours (the broker's rule, mirrored).
        if (this.#pingOutstanding) this.#pingOutstanding = false;
        else transport?.sendHeartbeat();
      },
      onAlive: () => {
        if (this.#transport === transport) this.#heartbeat?.seen();
      },
      onClose: (info) => {
        if (this.#transport === transport) this.#onClose(info);
      },
    };
    try {
      transport = this.#factory(this.#target, events, this.#options.maxFrameBytes);
    } catch (err) {
      // A factory that throws is a connect failure like any other, reported from a microtask so that
      // listeners added after the constructor see it.
      const error =
        err instanceof ClientError ? err : new ClientError('PB_ERR_CLIENT_CONNECT_FAILED', `cannot connect to ${this.url}: ${String(err)}`, { cause: err });
      transport = {
        send() {},
        sendHeartbeat() {},
        close() {},
        destroy() {},
      };
      this.#transport = transport;
      queueMicrotask(() => events.onClose({ error }));
      return;
    }
    this.#transport = transport;
    const t = transport;
    this.#connectTimer = setTimeout(() => t.destroy(new ConnectTimeoutError(this.url, this.#options.connectTimeoutMs)), this.#options.connectTimeoutMs);
  }

  #onOpen(): void {
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    this.#setState('connected');
    this.#retries = 0;
    this.#connections++;
    const transport = this.#transport!;
    const { pingIntervalMs, idleTimeoutMs } = this.#options;
    this.#heartbeat = new Heartbeat(
      {
        sendHeartbeat: () => {
          this.#pingOutstanding = true;
          transport.sendHeartbeat();
        },
        onIdleTimeout: () => transport.destroy(new IdleTimeoutError(idleTimeoutMs)),
      },
      { pingIntervalMs, idleTimeoutMs },
    );
    this.#heartbeat.start();
    const t = this.#target;
    this.emit('connected', { url: this.url, transport: t.kind, secure: t.secure, framing: t.framing, connectionCount: this.#connections });
    // Listeners may have sent a first frame (a login) already: held frames go after it.
    if (this.#state === 'connected' && this.#transport === transport && this.#queue.length > 0) {
      const queued = this.#queue;
      this.#queue = [];
      for (const data of queued) transport.send(data);
    }
  }

  #onClose(info: TransportCloseInfo): void {
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#lingerTimer);
    this.#connectTimer = this.#lingerTimer = undefined;
    this.#heartbeat?.stop();
    this.#heartbeat = null;
    this.#transport = null;
    const wasConnected = this.#state === 'connected';
    this.#setState('disconnected');
    const reason = info.code === undefined ? undefined : reasonFromCloseCode(info.code);
    const policy = this.#options.reconnect;
    // A framing error in what the broker sent means this URL's framing or size limit does not match
    // the listener's: it would happen again, like a terminal reason.
    const terminal = (reason !== undefined && this.#options.terminalReasons.has(reason)) || info.error instanceof FrameError;
    const willReconnect = !this.#closing && policy !== undefined && !terminal && this.#retries < policy.maxAttempts;
    if (!willReconnect) {
      this.#stopped = true;
      this.#queue = [];
    }
    const waiters = this.#closeWaiters;
    this.#closeWaiters = [];
    for (const resolve of waiters) resolve();
    this.emit('disconnected', { reason, code: info.code, error: info.error, wasConnected, closedByClient: this.#closing, willReconnect });
    // A listener may have called close(): it wins.
    if (!willReconnect || this.#closing || this.#state !== 'disconnected') return;
    const delayMs = backoffDelayMs(this.#retries, policy!);
    this.#retries++;
    this.#reconnectTimer = setTimeout(() => this.#open(), delayMs);
    this.emit('reconnecting', { attempt: this.#retries, delayMs });
  }
}
