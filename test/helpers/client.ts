/**
 * A test client over a real TCP socket: write raw bytes or frames, read decoded frames with a
 * deadline, wait for the close. Every wait is on an event with a deadline, never a bare sleep.
 */
import net from 'node:net';
import { once } from 'node:events';
import { afterEach } from 'vitest';
import { encodeBinaryFrame } from '../../host/framing/binary-encoder.js';
import { encodeDecimalFrame } from '../../host/framing/decimal-encoder.js';
import { createDecoder, type FramingName } from '../../host/framing/frame-codec.js';
import { WAIT_DEADLINE_MS, Waiter } from './wait.js';

export class TestClient {
  readonly socket: net.Socket;
  readonly frames: Buffer[] = [];
  readonly #waiter = new Waiter();
  #closed = false;
  /** Raw bytes received (for tests that look at the exact stream). */
  raw: Buffer[] = [];

  readonly #encode: (body: Uint8Array) => Buffer;

  /** @param framing the stream framing both ways (default decimal; `binary` for `?framing=binary` listeners). */
  constructor(socket: net.Socket, framing: FramingName = 'decimal') {
    this.socket = socket;
    this.#encode = framing === 'binary' ? encodeBinaryFrame : encodeDecimalFrame;
    const decoder = createDecoder(framing, { onFrame: (b) => this.frames.push(Buffer.from(b)) }, 512 * 1024 * 1024);
    socket.on('data', (chunk: Buffer) => {
      this.raw.push(chunk);
      const err = decoder.push(chunk);
      if (err) socket.destroy(err);
      this.#waiter.wake();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#waiter.wake();
    });
    socket.on('error', () => {});
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends raw bytes. */
  write(data: string | Uint8Array): void {
    this.socket.write(data);
  }

  /** Sends one frame. */
  send(body: string | Uint8Array): void {
    this.socket.write(this.encode(typeof body === 'string' ? Buffer.from(body) : body));
  }

  /** One frame in this client's framing. */
  encode(body: Uint8Array): Buffer {
    return this.#encode(body);
  }

  /** Resolves when `count` frames have arrived in total; rejects after `deadlineMs`. */
  async waitFrames(count: number, deadlineMs = WAIT_DEADLINE_MS): Promise<Buffer[]> {
    await this.#until(
      () => this.frames.length >= count,
      deadlineMs,
      () => `${this.frames.length}/${count} frames`,
    );
    return this.frames.slice(0, count);
  }

  /** The next unread frame (frames are consumed in order). */
  async readFrame(deadlineMs = WAIT_DEADLINE_MS): Promise<Buffer> {
    const want = this.#read + 1;
    await this.waitFrames(want, deadlineMs);
    return this.frames[this.#read++];
  }
  #read = 0;

  /** Resolves when the broker closed the connection. */
  async waitClosed(deadlineMs = WAIT_DEADLINE_MS): Promise<void> {
    await this.#until(
      () => this.#closed,
      deadlineMs,
      () => 'close',
    );
  }

  close(): void {
    this.socket.destroy();
  }

  #until(cond: () => boolean, deadlineMs: number, what: () => string): Promise<void> {
    return this.#waiter.until(cond, what, { deadlineMs, failIf: () => (this.#closed ? 'connection closed' : undefined) });
  }
}

/** Opens a client to 127.0.0.1:`port`. */
export async function connectClient(port: number): Promise<TestClient> {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  await once(socket, 'connect');
  return new TestClient(socket);
}

/**
 * Tracks the clients a suite opens and, after each test, closes them and stops the suite's broker
 * (read through `getBroker`, since each test starts its own). Returns `connect()`.
 */
export function useClients(getBroker: () => { port: number; stop(): Promise<void> } | undefined): { connect(): Promise<TestClient> } {
  const clients: TestClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await getBroker()?.stop();
  });
  return {
    async connect(): Promise<TestClient> {
      const c = await connectClient(getBroker()!.port);
      clients.push(c);
      return c;
    },
  };
}
