/**
 * A `net.Socket` (or a `tls.TLSSocket`, which is one) as a `Transport`: the byte stream is decoded
 * by the connection with the listener's framing.
 */
import type net from 'node:net';
import { headerCodecFor, type FrameHeaderCodec, type FramingName } from '../framing/frame-codec.js';
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

/** A TCP or TLS socket as a `Transport`. */
export class TcpTransport implements Transport {
  readonly kind = 'tcp' as const;
  readonly secure: boolean;
  readonly copiesWrites: boolean;
  readonly inbound: FramingName;
  readonly outbound: FrameHeaderCodec;
  readonly #socket: net.Socket;
  readonly remoteAddress: string;
  readonly remotePort: number;

  /**
   * @param framing the stream framing both ways (default `decimal`).
   * @param secure whether `socket` is a TLS socket.
   */
  constructor(socket: net.Socket, framing: FramingName = 'decimal', secure = false) {
    this.#socket = socket;
    this.inbound = framing;
    this.outbound = headerCodecFor(framing);
    this.secure = secure;
    // A TLS socket's write goes to node's TLSWrap::DoWrite (src/crypto/crypto_tls.cc), which runs
    // SSL_write on the buffer or, if OpenSSL cannot take it now, copies it: nothing references the
    // buffer once write() returns, although writableLength counts it until the encrypted bytes
    // have been written (a tick later). Plain TCP keeps the buffer when the kernel did not take it all.
    this.copiesWrites = secure;
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
