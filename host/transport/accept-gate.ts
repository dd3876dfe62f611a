/**
 * What a listener asks before it spends anything on a new TCP connection, and what it reports about
 * handshakes that fail. Connection caps (total, per IP, accept rate) are decided here, at accept,
 * before a TLS or WebSocket handshake starts: a flood of handshakes is refused as cheaply as a
 * flood of plain connections.
 */
import type net from 'node:net';

/** Why a connection that was admitted never became a transport. */
export type HandshakeRefusal =
  /** The TLS handshake or the WebSocket upgrade did not finish within `handshakeTimeoutMs`. */
  | 'handshake-timeout'
  /** The TLS handshake failed (plain bytes sent to a TLS port, no shared cipher, …). */
  | 'tls-handshake-failed'
  /** A malformed upgrade request, or an HTTP request that is not an upgrade. */
  | 'ws-bad-request'
  /** An upgrade to another path than the listener's. */
  | 'ws-wrong-path'
  /** An upgrade from a browser page whose `Origin` is not allowed. */
  | 'ws-origin-refused';

/** The broker's side of admission, as listeners see it. */
export interface AcceptGate {
  /**
   * A TCP connection from `remoteAddress` arrived. Returns true to go on (the listener then calls
   * `release` exactly once, when that socket closes), false to refuse (the listener destroys it at
   * once; the refusal is counted by the gate).
   */
  admit(remoteAddress: string): boolean;
  /** An admitted socket from `remoteAddress` closed. */
  release(remoteAddress: string): void;
  /** An admitted socket's handshake failed for `reason` (it is closed; `release` follows). */
  refuse(reason: HandshakeRefusal): void;
}

const kAdmitted = Symbol('plugbroker.admittedBy');
type AdmittedSocket = net.Socket & { [kAdmitted]: { gate: AcceptGate; ip: string } };

// Module-level, `this` bound to the socket: no closure per connection.
function releaseOnClose(this: AdmittedSocket): void {
  const { gate, ip } = this[kAdmitted];
  gate.release(ip);
}

/**
 * Asks `gate` about `socket` and destroys it when refused. When admitted, `gate.release` runs when
 * the socket closes, however it ends (whatever transport is later built on it).
 * @returns whether the socket was admitted.
 */
export function admitSocket(gate: AcceptGate, socket: net.Socket): boolean {
  const ip = socket.remoteAddress ?? '';
  if (!gate.admit(ip)) {
    socket.destroy();
    return false;
  }
  (socket as AdmittedSocket)[kAdmitted] = { gate, ip };
  socket.once('close', releaseOnClose);
  return true;
}
