/**
 * WebSocket test clients: `connectWs()` (the `ws` client: messages, pings, the close code and
 * reason) and `rawUpgrade()` (a plain socket that performs the upgrade by hand, for what a
 * well-behaved client never does: unmasked or oversize frame headers, fragments, not reading).
 * Every wait is on an event with a deadline.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import WebSocket, { type ClientOptions } from 'ws';
import { WAIT_DEADLINE_MS, Waiter } from './wait.js';

/** A `ws` client that records what it receives. */
export class TestWsClient {
  readonly ws: WebSocket;
  readonly messages: Buffer[] = [];
  pings = 0;
  /** Set once closed: the code and reason the broker sent (1006: no close frame). */
  closeCode: number | undefined;
  closeReason = '';
  readonly #waiter = new Waiter();

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      this.messages.push(Buffer.from(data));
      this.#waiter.wake();
    });
    ws.on('ping', () => {
      this.pings++;
      this.#waiter.wake();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.#waiter.wake();
    });
    ws.on('error', () => {});
  }

  get closed(): boolean {
    return this.closeCode !== undefined;
  }

  send(body: string | Uint8Array): void {
    this.ws.send(body);
  }

  /** Resolves when `count` messages have arrived in total; rejects after `deadlineMs`. */
  async waitMessages(count: number, deadlineMs = WAIT_DEADLINE_MS): Promise<Buffer[]> {
    await this.until(
      () => this.messages.length >= count,
      deadlineMs,
      () => `${this.messages.length}/${count} messages`,
    );
    return this.messages.slice(0, count);
  }

  /** Resolves with the close code once the connection closed; rejects after `deadlineMs`. */
  async waitClosed(deadlineMs = WAIT_DEADLINE_MS): Promise<number> {
    await this.until(
      () => this.closed,
      deadlineMs,
      () => 'close',
      true,
    );
    return this.closeCode!;
  }

  /** Resolves when `cond` holds (re-checked on every event); rejects after `deadlineMs`. */
  until(cond: () => boolean, deadlineMs: number, what: () => string, closeOk = false): Promise<void> {
    const failIf = (): string | undefined => (this.closed && !closeOk ? `closed (${this.closeCode} ${this.closeReason})` : undefined);
    return this.#waiter.until(cond, what, { deadlineMs, failIf });
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Opens a `ws` client to `url` and waits until it is open (rejects on an HTTP refusal). */
export async function connectWs(url: string, opts: ClientOptions = {}): Promise<TestWsClient> {
  const ws = new WebSocket(url, { perMessageDeflate: false, ...opts });
  const client = new TestWsClient(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
  return client;
}

/**
 * The HTTP status the broker answers an upgrade to `url` with (101 when it upgrades), from a `ws`
 * client with `opts` (headers such as `origin`).
 */
export async function upgradeStatus(url: string, opts: ClientOptions = {}): Promise<number> {
  const ws = new WebSocket(url, { perMessageDeflate: false, ...opts });
  ws.on('error', () => {});
  return new Promise<number>((resolve) => {
    ws.once('upgrade', (res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.destroy();
    });
  });
}

/** One client frame (RFC 6455 §5.2): masked unless `mask` is false. */
export function clientFrame(opcode: number, payload: Uint8Array, opts: { fin?: boolean; mask?: boolean; declaredLength?: number } = {}): Buffer {
  const fin = opts.fin ?? true;
  const masked = opts.mask ?? true;
  const len = opts.declaredLength ?? payload.length;
  const head: number[] = [(fin ? 0x80 : 0) | opcode];
  const m = masked ? 0x80 : 0;
  if (len < 126) head.push(m | len);
  else if (len < 0x10000) head.push(m | 126, len >>> 8, len & 0xff);
  else {
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(len));
    head.push(m | 127, ...big);
  }
  const key = masked ? randomBytes(4) : Buffer.alloc(0);
  const body = Buffer.from(payload);
  if (masked) for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([Buffer.from(head), key, body]);
}

/** A socket that sent an upgrade request by hand; `response` is the HTTP head the broker answered. */
export interface RawUpgrade {
  socket: net.Socket;
  response: string;
  /** Bytes after the HTTP head (WebSocket frames), as they arrive. */
  rest: Buffer[];
}

/** The request head `rawUpgrade` sends: a valid upgrade to `path` unless `headers` override it. */
export function upgradeRequest(path: string, headers: Record<string, string | null> = {}): string {
  const all: Record<string, string | null> = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
    ...headers,
  };
  const lines = Object.entries(all)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}: ${v}`);
  return `GET ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * Connects to 127.0.0.1:`port` (TLS when `secure`), sends `request` (default: a valid upgrade to
 * `/ws`) and resolves with the response head once it arrived (or the socket closed).
 */
export async function rawUpgrade(
  port: number,
  request: string = upgradeRequest('/ws'),
  opts: { secure?: boolean; deadlineMs?: number; localPort?: number } = {},
): Promise<RawUpgrade> {
  const at = { host: '127.0.0.1', port, localPort: opts.localPort };
  const socket: net.Socket = opts.secure ? tls.connect({ ...at, rejectUnauthorized: false }) : net.connect(at);
  socket.on('error', () => {});
  await once(socket, opts.secure ? 'secureConnect' : 'connect');
  socket.write(request);
  const out: RawUpgrade = { socket, response: '', rest: [] };
  let head = Buffer.alloc(0);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no upgrade response')), opts.deadlineMs ?? 5000);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      if (out.response !== '') {
        out.rest.push(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      out.response = head.subarray(0, end).toString();
      if (head.length > end + 4) out.rest.push(head.subarray(end + 4));
      done();
    };
    socket.on('data', onData);
    socket.once('close', () => {
      if (out.response === '') out.response = head.toString();
      done();
    });
  });
  return out;
}

/** Code of the first close frame in `bytes` (server frames: unmasked), or undefined. */
export function closeCodeIn(bytes: Buffer): number | undefined {
  let i = 0;
  while (i + 2 <= bytes.length) {
    const opcode = bytes[i] & 0x0f;
    let len = bytes[i + 1] & 0x7f;
    let at = i + 2;
    if (len === 126) {
      len = bytes.readUInt16BE(at);
      at += 2;
    } else if (len === 127) {
      len = Number(bytes.readBigUInt64BE(at));
      at += 8;
    }
    if (opcode === 0x8) return len >= 2 ? bytes.readUInt16BE(at) : 1005;
    i = at + len;
  }
  return undefined;
}

/** HTTP status code of a response head (`HTTP/1.1 404 Not Found` → 404); 0 when there is none. */
export function statusOf(head: string): number {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
  return m ? Number(m[1]) : 0;
}
