/**
 * An absolute deadline for a handshake (TLS, WebSocket upgrade, or both for `wss://`), counted
 * from the TCP accept. Node's own TLS `handshakeTimeout` and HTTP `headersTimeout` are reset by
 * activity or checked coarsely; a slowloris that trickles a byte now and then would outlive them.
 * Here a connection that has not finished its handshake `timeoutMs` after it was accepted is
 * destroyed, whatever it sends.
 *
 * The layer above a raw socket (a `TLSSocket`, the HTTP request) may be a different object from
 * the accepted one, so a pending handshake is found again by the peer's address and port, which
 * identify one live connection to a listener.
 */
import type net from 'node:net';
import type { AcceptGate } from './accept-gate.js';

interface Pending {
  readonly socket: net.Socket;
  readonly timer: NodeJS.Timeout;
}

function keyOf(socket: net.Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}

/** The pending handshakes of one listener. */
export class HandshakeDeadlines {
  readonly #timeoutMs: number;
  readonly #gate: AcceptGate;
  readonly #pending = new Map<string, Pending>();

  /** @param timeoutMs how long a handshake may take from the accept, ms. */
  constructor(timeoutMs: number, gate: AcceptGate) {
    this.#timeoutMs = timeoutMs;
    this.#gate = gate;
  }

  /** Handshakes under way. */
  get size(): number {
    return this.#pending.size;
  }

  /** Starts the clock for the accepted `socket`. */
  start(socket: net.Socket): void {
    const key = keyOf(socket);
    const timer = setTimeout(() => this.#expire(key), this.#timeoutMs);
    timer.unref();
    this.#pending.set(key, { socket, timer });
    socket.once('close', () => this.#forget(key, socket));
  }

  /**
   * The handshake of the connection under `socket` (the accepted socket or one layered on it)
   * finished. Returns false when its deadline had already passed (it is being destroyed).
   */
  finish(socket: net.Socket): boolean {
    const key = keyOf(socket);
    const p = this.#pending.get(key);
    if (p === undefined) return false;
    clearTimeout(p.timer);
    this.#pending.delete(key);
    return true;
  }

  /** Destroys every connection still handshaking (the listener is closing). */
  destroyAll(): void {
    for (const p of [...this.#pending.values()]) p.socket.destroy();
  }

  #expire(key: string): void {
    const p = this.#pending.get(key);
    if (p === undefined) return;
    this.#pending.delete(key);
    this.#gate.refuse('handshake-timeout');
    p.socket.destroy();
  }

  #forget(key: string, socket: net.Socket): void {
    const p = this.#pending.get(key);
    if (p === undefined || p.socket !== socket) return;
    clearTimeout(p.timer);
    this.#pending.delete(key);
  }
}
