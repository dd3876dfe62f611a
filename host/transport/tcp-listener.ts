/**
 * TCP listener: binds a `node:net` server and wraps each accepted socket as a `Transport`.
 */
import net from 'node:net';
import { ListenError } from '../errors.js';
import type { Transport, TransportHandler } from './transport.js';

const kHandler = Symbol('plugbroker.transportHandler');
type HandledSocket = net.Socket & { [kHandler]: TransportHandler };

// Module-level listeners with `this` bound to the socket by the EventEmitter: no closures per
// connection (memory per idle connection is a benchmark target).
function onSocketData(this: HandledSocket, chunk: Buffer): void {
  this[kHandler].onData(chunk);
}
function onSocketEnd(this: HandledSocket): void {
  this[kHandler].onEnd();
}
function onSocketClose(this: HandledSocket): void {
  this[kHandler].onClose();
}
function onSocketError(this: HandledSocket, err: Error): void {
  this[kHandler].onError(err);
}

/** A `net.Socket` as a `Transport`. */
export class TcpTransport implements Transport {
  readonly kind = 'tcp' as const;
  readonly #socket: net.Socket;
  readonly remoteAddress: string;
  readonly remotePort: number;

  constructor(socket: net.Socket) {
    this.#socket = socket;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
  }

  get bufferedBytes(): number {
    return this.#socket.writableLength;
  }

  attach(handler: TransportHandler): void {
    const s = this.#socket as HandledSocket;
    s[kHandler] = handler;
    s.on('data', onSocketData);
    s.on('end', onSocketEnd);
    s.on('close', onSocketClose);
    s.on('error', onSocketError);
  }

  write(data: Buffer): void {
    this.#socket.write(data);
  }

  writev(data: readonly Buffer[]): void {
    // cork/uncork hands the buffers to libuv as one writev (one syscall).
    const s = this.#socket;
    s.cork();
    for (const b of data) s.write(b);
    s.uncork();
  }

  pause(): void {
    this.#socket.pause();
  }

  end(): void {
    this.#socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

/** Options of `listenTcp`. */
export interface TcpListenOptions {
  host: string;
  port: number;
  backlog: number;
  onTransport(transport: Transport): void;
  /** Errors after the listener is bound (accept failures such as EMFILE); it keeps listening. */
  onError(err: Error): void;
}

/** A bound TCP listener. */
export interface TcpListener {
  /** The address actually bound (the port is resolved when 0 was asked). */
  readonly address: { host: string; port: number };
  /**
   * Stops accepting at once. The promise resolves when every connection the listener accepted has
   * closed too, so close those before awaiting it.
   */
  close(): Promise<void>;
}

/**
 * Binds and starts accepting.
 * @throws {ListenError} when the address cannot be bound.
 */
export async function listenTcp(opts: TcpListenOptions): Promise<TcpListener> {
  // allowHalfOpen: when a peer sends FIN, the broker still writes the replies to frames it already
  // received, then ends its side itself. noDelay: replies are batched by the broker, not by Nagle.
  const server = net.createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: false }, (socket) => {
    opts.onTransport(new TcpTransport(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) => reject(new ListenError(opts.host, opts.port, { cause })));
    server.listen({ host: opts.host, port: opts.port, backlog: opts.backlog }, () => resolve());
  });
  server.on('error', opts.onError);
  const addr = server.address() as net.AddressInfo;
  return {
    address: { host: addr.address, port: addr.port },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
