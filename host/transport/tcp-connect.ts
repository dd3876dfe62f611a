/**
 * Outbound TCP: opens a connection to `host:port` and wraps it as a `Transport` at once, so frames
 * can be queued before the connection is up (Node buffers them until then). Used for upstream
 * nodes (routing/upstreams.ts); nothing above transport/ imports `node:net`.
 */
import net from 'node:net';
import type { Transport } from './transport.js';
import { TcpTransport } from './tcp-transport.js';

/** What `connectTcp` reports besides the transport's own events. */
export interface ConnectEvents {
  /** The TCP handshake completed. */
  onConnected(): void;
}

/**
 * Connects to `host:port`. A connection not established within `timeoutMs` is destroyed (the
 * transport then closes like one that was refused).
 */
export function connectTcp(host: string, port: number, timeoutMs: number, events: ConnectEvents): Transport {
  const socket = net.connect({ host, port, noDelay: true });
  socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`)));
  socket.once('connect', () => {
    socket.setTimeout(0);
    events.onConnected();
  });
  return new TcpTransport(socket);
}
