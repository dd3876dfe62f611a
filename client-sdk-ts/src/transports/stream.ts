/**
 * `tcp://` and `tls://` (Node only): a `node:net` or `node:tls` socket with the decimal or binary
 * framing of the URL. The decoder's frames are plain `Uint8Array` views of the read chunk (Node
 * never reuses a socket's read buffers), so a message costs no copy.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ClosedError, ConnectFailedError, type ClientError } from '../errors.js';
import { BINARY_CODEC } from '../framing/binary.js';
import { DECIMAL_CODEC } from '../framing/decimal.js';
import type { StreamCodec, StreamDecoder } from '../framing/stream-framing.js';
import type { ClientTransport, TransportEvents } from '../transport.js';
import type { BrokerTarget } from '../url.js';

/** TLS settings for `tls://` and `wss://` (Node's `tls.connect` options of the same names). */
export interface ClientTlsOptions {
  /** Certificates to trust instead of the system's (PEM): a self-signed broker's certificate. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** A client certificate (PEM), when the broker asks for one. */
  cert?: string | Buffer;
  /** The client certificate's key (PEM). */
  key?: string | Buffer;
  /** Refuse a certificate that does not verify. Default true; false is for local experiments only. */
  rejectUnauthorized?: boolean;
  /** Name to verify the certificate against (SNI); default: the URL's host. */
  servername?: string;
}

const encoder = new TextEncoder();

/** A framed byte stream as a `ClientTransport`. */
export class StreamTransport implements ClientTransport {
  readonly #socket: net.Socket;
  readonly #codec: StreamCodec;
  readonly #decoder: StreamDecoder;
  readonly #events: TransportEvents;
  #opened = false;
  #closed = false;
  #error: ClientError | undefined;

  constructor(target: BrokerTarget, events: TransportEvents, maxFrameBytes: number, tlsOptions: ClientTlsOptions = {}) {
    this.#events = events;
    this.#codec = target.framing === 'binary' ? BINARY_CODEC : DECIMAL_CODEC;
    this.#decoder = this.#codec.createDecoder((body) => (body.length === 0 ? events.onHeartbeat() : events.onFrame(body)), maxFrameBytes);
    const url = target.url;
    if (target.secure) {
      const servername = tlsOptions.servername ?? (net.isIP(target.host) === 0 ? target.host : undefined);
      this.#socket = tls.connect({ host: target.host, port: target.port, ...tlsOptions, servername });
      this.#socket.once('secureConnect', () => this.#open());
    } else {
      this.#socket = net.connect({ host: target.host, port: target.port });
      this.#socket.once('connect', () => this.#open());
    }
    const socket = this.#socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => {
      this.#error ??= this.#opened
        ? new ClosedError(`connection to ${url} failed: ${err.message}`, { cause: err })
        : new ConnectFailedError(url, { cause: err });
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#events.onClose({ error: this.#error ?? (this.#opened ? undefined : new ConnectFailedError(url)) });
    });
  }

  send(data: Uint8Array | string): void {
    if (!this.#opened || this.#closed) return;
    this.#socket.write(this.#codec.encode(typeof data === 'string' ? encoder.encode(data) : data));
  }

  sendHeartbeat(): void {
    if (!this.#opened || this.#closed) return;
    this.#socket.write(this.#codec.heartbeat);
  }

  close(): void {
    // Half-close after what is queued; the broker answers FIN by closing its side.
    this.#socket.end();
  }

  destroy(error?: ClientError): void {
    if (this.#closed) return;
    if (error !== undefined) this.#error = error;
    this.#socket.destroy();
  }

  #open(): void {
    this.#opened = true;
    this.#events.onOpen();
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    const err = this.#decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    if (err !== null) this.destroy(err);
  }
}
