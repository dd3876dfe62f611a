/**
 * `ws://` and `wss://` over a WHATWG-style WebSocket: the browser's own, or the `ws` package's in
 * Node (its client class has the same `onopen`/`onmessage`/`onclose` surface). One message is one
 * frame; an empty message is a heartbeat. Close codes 4000–4099 carry the broker's close reason
 * (close-reason.ts); the core maps them back.
 */
import { ConnectFailedError, type ClientError } from '../errors.js';
import type { ClientTransport, TransportEvents } from '../transport.js';

/** The part of the WebSocket API the client uses (browsers and `ws` both have it). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: Uint8Array | string): void;
  close(code?: number, reason?: string): void;
}

/** Extra hooks a platform may offer beyond the WHATWG surface. */
export interface WebSocketHooks {
  /**
   * Calls `listener` with each message's data instead of `onmessage` (Node's `ws`: its `message`
   * event hands the data over directly, where `onmessage` builds a MessageEvent per message).
   */
  onMessage?(ws: WebSocketLike, listener: (data: unknown) => void): void;
  /** Calls `listener` on every ping (Node's `ws`; browsers answer pings without telling). */
  onPing?(ws: WebSocketLike, listener: () => void): void;
  /** Drops the connection at once (Node's `ws.terminate()`); browsers can only `close()`. */
  terminate?(ws: WebSocketLike): void;
  /** Turns what the `error` event carried into the client's error (connect failures…). */
  describeError?(ev: unknown, opened: boolean): ClientError | undefined;
}

const OPEN = 1;
const EMPTY = new Uint8Array(0);
/** 1000, "normal closure" (RFC 6455 §7.4.1): the only code a browser client may send besides 3000–4999. */
const NORMAL_CLOSURE = 1000;
const encoder = new TextEncoder();

/** A WebSocket as a `ClientTransport`. */
export class WebSocketTransport implements ClientTransport {
  readonly #ws: WebSocketLike;
  readonly #events: TransportEvents;
  readonly #hooks: WebSocketHooks;
  readonly #url: string;
  #opened = false;
  #closed = false;
  #error: ClientError | undefined;

  constructor(ws: WebSocketLike, url: string, events: TransportEvents, hooks: WebSocketHooks = {}) {
    this.#ws = ws;
    this.#url = url;
    this.#events = events;
    this.#hooks = hooks;
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      this.#opened = true;
      events.onOpen();
    };
    if (hooks.onMessage !== undefined) hooks.onMessage(ws, (data) => this.#onMessage(data));
    else ws.onmessage = (ev) => this.#onMessage(ev.data);
    ws.onerror = (ev) => {
      this.#error ??= hooks.describeError?.(ev, this.#opened) ?? (this.#opened ? undefined : new ConnectFailedError(url));
    };
    ws.onclose = (ev) => this.#finish(ev.code);
    hooks.onPing?.(ws, () => events.onAlive());
  }

  send(data: Uint8Array | string): void {
    if (this.#ws.readyState === OPEN) this.#ws.send(data);
  }

  sendHeartbeat(): void {
    if (this.#ws.readyState === OPEN) this.#ws.send(EMPTY);
  }

  close(): void {
    this.#ws.close(NORMAL_CLOSURE);
  }

  destroy(error?: ClientError): void {
    if (this.#closed) return;
    if (error !== undefined) this.#error = error;
    if (this.#hooks.terminate !== undefined) {
      this.#hooks.terminate(this.#ws);
      return;
    }
    // A browser socket cannot be dropped: start the close handshake and report the close now, so the
    // client does not wait for a broker that may never answer.
    this.#ws.close(NORMAL_CLOSURE);
    this.#finish(undefined);
  }

  #onMessage(data: unknown): void {
    if (this.#closed) return;
    let body: Uint8Array;
    if (data instanceof ArrayBuffer) body = new Uint8Array(data);
    else if (typeof data === 'string') body = encoder.encode(data);
    else if (ArrayBuffer.isView(data)) body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else return; // a Blob cannot arrive: binaryType is 'arraybuffer'
    if (body.length === 0) this.#events.onHeartbeat();
    else this.#events.onFrame(body);
  }

  #finish(code: number | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    const ws = this.#ws;
    ws.onopen = ws.onmessage = ws.onclose = null;
    ws.onerror = () => {}; // a late error must not become an unhandled 'error' event in Node
    // A connection that never opened reports no close code (1006 says nothing new); refused is refused.
    this.#events.onClose({ code: this.#opened ? code : undefined, error: this.#error ?? (this.#opened ? undefined : new ConnectFailedError(this.#url)) });
  }
}
