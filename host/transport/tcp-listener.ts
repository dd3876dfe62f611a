/**
 * `tcp://` and `tls://` listeners: bind a `node:net` (or `node:tls`) server, admit each accepted
 * socket through the `AcceptGate` before anything else, and wrap it as a `Transport` with the
 * listener's framing. For TLS the handshake must finish within the handshake deadline.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ListenError } from '../errors.js';
import type { FramingName } from '../framing/frame-codec.js';
import { admitSocket, type AcceptGate } from './accept-gate.js';
import { HandshakeDeadlines } from './handshake-deadline.js';
import { TcpTransport } from './tcp-transport.js';
import type { Transport } from './transport.js';

/** What every listener needs from the broker. */
export interface ListenerDeps {
  readonly gate: AcceptGate;
  /** A connection finished its handshakes: a transport for the broker. */
  onTransport(transport: Transport): void;
  /** Errors after the listener is bound (accept failures such as EMFILE); it keeps listening. */
  onError(err: Error): void;
  readonly backlog: number;
  /** How long a TLS handshake or WebSocket upgrade may take from the accept, ms. */
  readonly handshakeTimeoutMs: number;
}

/** Options of `listenTcp`. */
export interface TcpListenOptions extends ListenerDeps {
  host: string;
  port: number;
  /** Stream framing of the listener's connections. Default `decimal`. */
  framing?: FramingName;
  /** Certificate and key: a `tls://` listener. Absent: plain TCP. */
  tls?: tls.SecureContextOptions;
}

/** A bound listener. */
export interface BoundListener {
  /** The address actually bound (the port is resolved when 0 was asked). */
  readonly address: { host: string; port: number };
  /**
   * Stops accepting at once and drops connections still in their handshake. The promise resolves
   * when every connection the listener accepted has closed too, so close those before awaiting it.
   */
  close(): Promise<void>;
}

/**
 * Binds `server` on host:port.
 * @throws {ListenError} when the address cannot be bound.
 */
export async function bindServer(
  server: net.Server,
  host: string,
  port: number,
  backlog: number,
  onError: (err: Error) => void,
): Promise<{ host: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) => reject(new ListenError(host, port, { cause })));
    server.listen({ host, port, backlog }, () => resolve());
  });
  server.on('error', onError);
  const addr = server.address() as net.AddressInfo;
  return { host: addr.address, port: addr.port };
}

/**
 * Binds and starts accepting.
 * @throws {ListenError} when the address cannot be bound.
 */
export async function listenTcp(opts: TcpListenOptions): Promise<BoundListener> {
  const framing = opts.framing ?? 'decimal';
  // allowHalfOpen: when a peer sends FIN, the broker still writes the replies to frames it already
  // received, then ends its side itself. noDelay: replies are batched by the broker, not by Nagle.
  const serverOpts = { allowHalfOpen: true, noDelay: true, pauseOnConnect: false };
  let server: net.Server;
  let deadlines: HandshakeDeadlines | undefined;
  if (opts.tls === undefined) {
    server = net.createServer(serverOpts, (socket) => {
      if (admitSocket(opts.gate, socket)) opts.onTransport(new TcpTransport(socket, framing, false));
    });
  } else {
    const hs = (deadlines = new HandshakeDeadlines(opts.handshakeTimeoutMs, opts.gate));
    // Node's handshakeTimeout restarts with every byte; the absolute deadline is ours (handshake-deadline.ts).
    const tlsServer = tls.createServer({ ...serverOpts, ...opts.tls, handshakeTimeout: opts.handshakeTimeoutMs });
    // Runs before tls.Server wraps the socket: a refused connection costs no TLS state.
    tlsServer.prependListener('connection', (socket: net.Socket) => {
      if (admitSocket(opts.gate, socket)) hs.start(socket);
    });
    tlsServer.on('secureConnection', (socket: tls.TLSSocket) => {
      if (hs.finish(socket)) opts.onTransport(new TcpTransport(socket, framing, true));
      else socket.destroy();
    });
    tlsServer.on('tlsClientError', (_err: Error, socket: tls.TLSSocket) => {
      // After our own deadline destroyed it, the error is the consequence, not another refusal.
      if (hs.finish(socket)) opts.gate.refuse('tls-handshake-failed');
      socket.destroy();
    });
    server = tlsServer;
  }
  const address = await bindServer(server, opts.host, opts.port, opts.backlog, opts.onError);
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        deadlines?.destroyAll();
      }),
  };
}
