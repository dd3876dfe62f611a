/**
 * A stand-in upstream node for tests: a TCP server on 127.0.0.1 speaking `<len>\n<body>` frames.
 * Every frame is answered with `<name>:<body>`; a heartbeat (`0\n`) is answered with one. It can
 * drop every connection, stop listening, and listen again on the same port. `stop()` is the
 * disposer.
 */
import net from 'node:net';
import { once } from 'node:events';
import { DecimalDecoder } from '../../host/framing/decimal-decoder.js';
import { encodeDecimalFrame } from '../../host/framing/decimal-encoder.js';

export class UpstreamNode {
  readonly name: string;
  port = 0;
  /** Frames received, in order (bodies as text). */
  readonly received: string[] = [];
  readonly #sockets = new Set<net.Socket>();
  #server: net.Server | undefined;
  /** Connections accepted since start. */
  accepted = 0;

  constructor(name: string) {
    this.name = name;
  }

  /** Open connections now. */
  get connections(): number {
    return this.#sockets.size;
  }

  /** Listens on `port` (0: a free one, kept for `listen()` after `close()`). */
  async listen(port = this.port): Promise<this> {
    const server = net.createServer((s) => this.#serve(s));
    server.listen({ host: '127.0.0.1', port });
    await once(server, 'listening');
    this.port = (server.address() as net.AddressInfo).port;
    this.#server = server;
    return this;
  }

  /** Resets every open connection. */
  dropAll(): void {
    for (const s of this.#sockets) s.resetAndDestroy();
  }

  /** Stops listening and resets every connection (a crashed node). */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.dropAll();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  /** Sends a frame to every open connection (a server-initiated push). */
  push(body: string): void {
    for (const s of this.#sockets) s.write(encodeDecimalFrame(Buffer.from(body)));
  }

  #serve(socket: net.Socket): void {
    this.accepted++;
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    const decoder = new DecimalDecoder(
      {
        onFrame: (body) => {
          if (body.length === 0) {
            socket.write('0\n');
            return;
          }
          this.received.push(body.toString());
          socket.write(encodeDecimalFrame(Buffer.from(`${this.name}:${body.toString()}`)));
        },
      },
      1024 * 1024,
    );
    socket.on('data', (chunk: Buffer) => {
      if (decoder.push(chunk) !== null) socket.destroy();
    });
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {});
  }
}

/** Starts `n` nodes named n1…nN. */
export async function startNodes(n: number): Promise<UpstreamNode[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => new UpstreamNode(`n${i + 1}`).listen()));
}
