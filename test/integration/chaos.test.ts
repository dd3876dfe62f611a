/**
 * Chaos: one broker serving the real echo plugin, 200 hostile connections (garbage, half-frames,
 * oversize headers, disconnects in the middle of a frame, floods that never read) beside 50
 * well-behaved connections that echo sequence-numbered frames in pipelined bursts. The well-behaved
 * ones must get every reply exactly once and in order and never be closed; the hostile ones that
 * broke the protocol must be closed with `protocol-error` (and nothing else); the broker must still
 * serve afterwards. Issue #4, item 7.
 *
 * The clients share the broker's event loop (startBroker runs in this process), and a loaded Node
 * loop accepts new sockets only about every 10 ms (a plain net echo server does the same; with the
 * clients in another process 200 connects are accepted in 40 ms). So every connection is opened
 * and accepted first, and the hostile ones then misbehave at random points of the well-behaved
 * traffic (when its reply count reaches a threshold): the abuse really interleaves with the echo.
 *
 * Every listener kind at once (issue #10): the well-behaved connections are spread over tcp://
 * (decimal), tcp://?framing=binary, ws:// and tls://, and 40 more hostile ones break the binary
 * framing, the WebSocket protocol (unmasked and oversize frames), upgrade to a wrong path, or send
 * plain bytes to the TLS port: those are closed (protocol-error) or refused (counted by reason), and
 * none of the good ones loses or reorders a frame.
 *
 * Randomness is seeded (CHAOS_SEED to replay; the seed is in every assertion message).
 */
import net from 'node:net';
import tls from 'node:tls';
import { EventEmitter, once } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeDecimalFrame } from '../../host/framing/decimal-encoder.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../../host/limits.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connectClient, TestClient } from '../helpers/client.js';
import { ECHO_WASM } from '../helpers/paths.js';
import { makeTestCert, type TestCert } from '../helpers/tls.js';
import { clientFrame, connectWs, rawUpgrade, type TestWsClient } from '../helpers/ws-client.js';
import { waitFor, withDeadline } from '../helpers/wait.js';

const SEED = process.env.CHAOS_SEED !== undefined ? Number(process.env.CHAOS_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const at = `(CHAOS_SEED=${SEED})`;

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(SEED);
const int = (n: number): number => Math.floor(rand() * n);
const range = (lo: number, hi: number): number => lo + int(hi - lo + 1);
/** `n` random bytes, four per PRNG draw. */
function bytes(n: number): Buffer {
  const b = Buffer.allocUnsafe(n + 3);
  for (let i = 0; i < n; i += 4) b.writeUInt32LE((rand() * 4294967296) >>> 0, i);
  return b.subarray(0, n);
}

/** Good clients, frames each, frames per pipelined burst. */
const GOOD = 50;
const MESSAGES = 200;
const BURST = 20;
/** Each flood writes until the well-behaved traffic is done, its socket is closed, or this much is sent. */
const FLOOD_MAX_BYTES = 1024 * 1024;
/**
 * A big flood writes until the broker closes it or this much is sent: well past what the loopback
 * kernel buffers and maxOutboundBytes hold together (a flood is closed as a slow consumer after
 * 7–9 MiB here).
 */
const BIG_FLOOD_MAX_BYTES = 16 * 1024 * 1024;
const FLOOD_FRAME_BODY = 200;
/**
 * The broker stops queuing replies for a flood past this (channel-send returns false; with
 * slow-consumer closing, issue #4 item 5, the flood is closed): at most this much per flood
 * instead of the 8 MiB default. The smallest value allowed with the default maxFrameBytes.
 */
const MAX_OUTBOUND_BYTES = DEFAULT_MAX_FRAME_BYTES;
/** Deadline of any single wait. */
const WAIT_MS = 15_000;

/** A byte that can never start or continue a length header (not a digit, CR or LF). */
function nonHeaderByte(): number {
  for (;;) {
    const b = int(256);
    if (!(b >= 0x30 && b <= 0x39) && b !== 0x0a && b !== 0x0d) return b;
  }
}

/** Resolves on the socket's `close`; rejects after `ms`. */
async function closed(socket: net.Socket, what: string, ms = WAIT_MS): Promise<void> {
  if (!socket.closed) await withDeadline(once(socket, 'close'), `${what} to be closed ${at}`, ms);
}

/** The shared `waitFor` with this suite's deadline and seed in the message. For state without an event. */
const until = (cond: () => boolean, what: string): Promise<void> => waitFor(cond, `${what} ${at}`, { deadlineMs: WAIT_MS, intervalMs: 20 });

/**
 * The frames a client received, heartbeats left out. A connection silent for pingIntervalMs (a
 * hostile one waiting for its turn on a loaded machine) gets a zero-length heartbeat frame from the
 * broker; echoes are never empty here.
 */
function echoes(c: Good | TestClient): Buffer[] {
  return c.frames.filter((f) => f.length > 0);
}

/** Resolves once `c` has `n` non-heartbeat frames; rejects after `ms`. */
async function waitEchoes(c: Good, n: number, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  let seen = echoes(c).length;
  while (seen < n) {
    const frames = c.frames.length;
    await c.waitFrames(frames + 1, Math.max(1, deadline - Date.now()));
    for (let k = frames; k < c.frames.length; k++) if (c.frames[k].length > 0) seen++;
  }
}

/** A well-behaved peer on any listener: frames it received, bursts it sends. */
interface Good {
  readonly kind: string;
  readonly frames: Buffer[];
  readonly closed: boolean;
  waitFrames(count: number, deadlineMs: number): Promise<unknown>;
  send(body: string | Buffer): void;
  /** Sends the bodies as frames: on a stream in one write or split at random points, over WebSocket one message each. */
  burst(bodies: Buffer[]): Promise<void>;
  onClose(f: () => void): void;
}

function streamGood(kind: string, c: TestClient): Good {
  return {
    kind,
    get frames() {
      return c.frames;
    },
    get closed() {
      return c.closed;
    },
    waitFrames: (n, ms) => c.waitFrames(n, ms),
    send: (b) => c.send(b),
    async burst(bodies) {
      const data = Buffer.concat(bodies.map((b) => c.encode(b)));
      if (int(2) === 0) c.write(data);
      else await writeInPieces(c.socket, data, range(2, 6));
    },
    onClose: (f) => void c.socket.once('close', f),
  };
}

function wsGood(c: TestWsClient): Good {
  return {
    kind: 'ws',
    frames: c.messages,
    get closed() {
      return c.closed;
    },
    waitFrames: (n, ms) => c.waitMessages(n, ms),
    send: (b) => c.send(b),
    async burst(bodies) {
      for (const b of bodies) c.ws.send(b);
    },
    onClose: (f) => void c.ws.once('close', f),
  };
}

/** Resolves when the socket can take more writes, or is closed (a reset is expected here, not an error). */
function drainedOrClosed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/** Writes `data` in `pieces` random pieces, one per event-loop turn (so they leave as separate segments). */
async function writeInPieces(socket: net.Socket, data: Buffer, pieces: number): Promise<void> {
  const cuts = Array.from({ length: pieces - 1 }, () => int(data.length + 1)).sort((a, b) => a - b);
  let prev = 0;
  for (const cut of [...cuts, data.length]) {
    if (socket.destroyed) return;
    socket.write(data.subarray(prev, cut));
    prev = cut;
    await new Promise((r) => setImmediate(r));
  }
}

describe('chaos', () => {
  let tb: TestBroker | undefined;
  let cert: TestCert;
  const sockets: net.Socket[] = [];
  const clients: Array<{ close(): void }> = [];
  beforeAll(() => {
    cert = makeTestCert();
  });
  afterAll(() => cert.remove());

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    for (const c of clients.splice(0)) c.close();
    await tb?.stop();
    tb = undefined;
  });

  /** A raw socket that reads nothing unless told to. */
  async function dial(port: number): Promise<net.Socket> {
    const s = net.connect({ host: '127.0.0.1', port, noDelay: true });
    sockets.push(s);
    s.on('error', () => {}); // EPIPE/ECONNRESET once the broker closes: expected here
    await once(s, 'connect');
    return s;
  }

  async function client(port: number): Promise<TestClient> {
    const c = await connectClient(port);
    clients.push(c);
    return c;
  }

  /** A well-behaved peer on listener `i % 4`: tcp decimal, tcp binary, ws, tls. */
  async function good(i: number, ports: number[]): Promise<Good> {
    switch (i % 4) {
      case 0:
        return streamGood('tcp', await client(ports[0]));
      case 1: {
        const s = net.connect({ host: '127.0.0.1', port: ports[1], noDelay: true });
        await once(s, 'connect');
        const c = new TestClient(s, 'binary');
        clients.push(c);
        return streamGood('binary', c);
      }
      case 2: {
        const c = await connectWs(`ws://127.0.0.1:${ports[2]}/ws`);
        clients.push(c);
        return wsGood(c);
      }
      default: {
        const s = tls.connect({ host: '127.0.0.1', port: ports[3], ca: cert.cert, servername: 'localhost' });
        await once(s, 'secureConnect');
        const c = new TestClient(s);
        clients.push(c);
        return streamGood('tls', c);
      }
    }
  }

  it('answers 50 well-behaved connections on four listeners exactly once and in order while 240 hostile ones misbehave, closes the protocol breakers, and keeps serving', async () => {
    tb = await startBroker({
      plugin: ECHO_WASM,
      maxOutboundBytes: MAX_OUTBOUND_BYTES,
      listen: ['tcp://127.0.0.1:0', 'tcp://127.0.0.1:0?framing=binary', 'ws://127.0.0.1:0/ws', 'tls://127.0.0.1:0'],
      tlsCert: cert.certPath,
      tlsKey: cert.keyPath,
      // The bad upgrades and TLS garbage connect first and misbehave later, on a loaded machine
      // maybe more than the default 10 s later: they must be refused for what they send.
      handshakeTimeoutMs: 120_000,
    });
    const broker = tb.broker;
    const ports = broker.listeners.map((l) => l.port);
    const port = ports[0];

    // --- progress of the well-behaved traffic, which paces the hostile connections ----------------
    const TOTAL = GOOD * MESSAGES;
    let replies = 0;
    let goodDone = false;
    const progress = new EventEmitter().setMaxListeners(0);
    /** Resolves once the well-behaved connections have received `n` replies in all. */
    const reached = (n: number): Promise<void> =>
      replies >= n
        ? Promise.resolve()
        : new Promise((resolve) => {
            const check = (): void => {
              if (replies < n) return;
              progress.off('reply', check);
              resolve();
            };
            progress.on('reply', check);
          });

    // --- hostile: 200 connections, 70 of which break the protocol ---------------------------------
    type Code = 'PB_ERR_FRAME_BAD_LENGTH' | 'PB_ERR_FRAME_HEADER_TOO_LONG' | 'PB_ERR_FRAME_TOO_LARGE' | 'PB_ERR_WS_PROTOCOL';
    interface Hostile {
      kind: string;
      /** The error code the broker must close it with, or null if it breaks nothing. */
      breaks: Code | null;
      /** The refusal it must be counted as (it never becomes a connection). */
      refused?: 'ws-wrong-path' | 'tls-handshake-failed';
      /** How it connects (default: a raw socket to the decimal tcp:// listener). */
      dial?: () => Promise<net.Socket>;
      count: number;
      /** Starts when the well-behaved traffic has this share of its replies (so it interleaves). */
      startAt(): number;
      act(s: net.Socket, n: number): Promise<void>;
    }
    const anytime = (): number => int(Math.floor(TOTAL * 0.8));
    const silent: net.Socket[] = [];
    let floodBytes = 0;
    const floodBatch = Buffer.concat(Array.from({ length: 256 }, () => encodeDecimalFrame(bytes(FLOOD_FRAME_BODY))));
    const hostile: Hostile[] = [
      {
        kind: 'garbage',
        breaks: 'PB_ERR_FRAME_BAD_LENGTH',
        count: 25,
        startAt: anytime,
        async act(s) {
          s.resume(); // read (and drop) so that the broker's FIN is seen
          const junk = bytes(range(1, 2048));
          junk[0] = nonHeaderByte();
          await writeInPieces(s, junk, range(1, 4));
          await closed(s, 'garbage');
        },
      },
      {
        kind: 'frames then garbage',
        breaks: 'PB_ERR_FRAME_BAD_LENGTH',
        count: 15,
        startAt: anytime,
        async act(s) {
          const c = new TestClient(s); // reads and decodes the replies
          const bodies = Array.from({ length: range(1, 5) }, (_, k) => Buffer.from(`before-error ${k} ${int(1e9)}`));
          const junk = bytes(range(1, 512));
          junk[0] = nonHeaderByte();
          await writeInPieces(s, Buffer.concat([...bodies.map((b) => encodeDecimalFrame(b)), junk]), range(1, 4));
          // The frames before the error are still answered (flushed before the close).
          await c.waitClosed(WAIT_MS);
          expect(echoes(c).map(String), `frames before the error ${at}`).toEqual(bodies.map(String));
        },
      },
      {
        kind: 'header over 10 digits',
        breaks: 'PB_ERR_FRAME_HEADER_TOO_LONG',
        count: 10,
        startAt: anytime,
        async act(s) {
          s.resume();
          await writeInPieces(s, Buffer.from(`${range(1, 9)}${'0123456789'.repeat(4)}`.slice(0, range(11, 40))), range(1, 3));
          await closed(s, 'long header');
        },
      },
      {
        kind: 'length above maxFrameBytes',
        breaks: 'PB_ERR_FRAME_TOO_LARGE',
        count: 20,
        startAt: anytime,
        async act(s) {
          s.resume();
          const declared = [DEFAULT_MAX_FRAME_BYTES + 1, DEFAULT_MAX_FRAME_BYTES + range(2, 1e9), 4_294_967_296, 9_999_999_999][int(4)];
          // Sometimes a valid frame first, sometimes body bytes after the header: none may be buffered.
          const before = int(2) === 0 ? encodeDecimalFrame(Buffer.from('ok')) : Buffer.alloc(0);
          const header = Buffer.from(`${declared}${int(2) === 0 ? '\r\n' : '\n'}`);
          await writeInPieces(s, Buffer.concat([before, header, bytes(int(3) * 1000)]), range(1, 3));
          await closed(s, 'oversize');
        },
      },
      {
        kind: 'half-frame, then silence',
        breaks: null,
        count: 30,
        startAt: anytime,
        async act(s) {
          silent.push(s);
          s.resume(); // so that a close by the broker would be seen
          const declared = range(2, 100_000);
          const half = [
            Buffer.concat([Buffer.from(`${declared}\n`), bytes(range(1, declared - 1))]), // part of a body
            Buffer.from(`${declared}`), // part of a header
            Buffer.from(`${declared}\r`), // a header waiting for its LF
          ][int(3)];
          await writeInPieces(s, half, range(1, 3));
        },
      },
      {
        kind: 'half-frame, then disconnect',
        breaks: null,
        count: 30,
        startAt: anytime,
        async act(s, n) {
          const declared = range(2, 100_000);
          await writeInPieces(s, Buffer.concat([Buffer.from(`${declared}\n`), bytes(range(1, declared - 1))]), range(1, 3));
          if (n % 2 === 0)
            s.end(); // FIN
          else s.resetAndDestroy(); // RST
        },
      },
      {
        kind: 'valid frames cut at a random point by a disconnect',
        breaks: null,
        count: 30,
        startAt: anytime,
        async act(s, n) {
          const stream = Buffer.concat(Array.from({ length: range(1, 20) }, () => encodeDecimalFrame(bytes(int(3000)))));
          await writeInPieces(s, stream.subarray(0, int(stream.length)), range(1, 8));
          if (n % 2 === 0) s.destroy();
          else s.resetAndDestroy();
        },
      },
      {
        kind: 'flood that never reads',
        breaks: null,
        count: 34,
        startAt: () => int(Math.floor(TOTAL * 0.3)),
        async act(s) {
          // No 'data' listener: the socket never reads. It writes as fast as the socket takes it
          // (the next batch as soon as the previous one is accepted) while the echo traffic lasts.
          for (let sentBytes = 0; sentBytes < FLOOD_MAX_BYTES && !goodDone && !s.destroyed; sentBytes += floodBatch.length) {
            floodBytes += floodBatch.length;
            if (!s.write(floodBatch)) await drainedOrClosed(s);
          }
        },
      },
      {
        kind: 'flood past the outbound limit',
        breaks: null,
        count: 6,
        startAt: () => 0,
        async act(s) {
          // Never reads either, and keeps writing after the echo traffic ends: its replies fill the
          // kernel buffers, then pass maxOutboundBytes (the slow-consumer path), unless the broker
          // closes it first.
          for (let sentBytes = 0; sentBytes < BIG_FLOOD_MAX_BYTES && !s.destroyed; sentBytes += floodBatch.length) {
            floodBytes += floodBatch.length;
            if (!s.write(floodBatch)) await drainedOrClosed(s);
          }
        },
      },
      // --- the other listeners (issue #10) ---
      {
        kind: 'binary header above maxFrameBytes',
        breaks: 'PB_ERR_FRAME_TOO_LARGE',
        count: 8,
        startAt: anytime,
        dial: () => dial(ports[1]),
        async act(s) {
          s.resume();
          const header = Buffer.alloc(4);
          header.writeUInt32BE(DEFAULT_MAX_FRAME_BYTES + range(1, 1e6));
          await writeInPieces(s, Buffer.concat([header, bytes(int(2000))]), range(1, 3));
          await closed(s, 'binary oversize');
        },
      },
      {
        kind: 'unmasked WebSocket frame',
        breaks: 'PB_ERR_WS_PROTOCOL',
        count: 8,
        startAt: anytime,
        dial: async () => {
          const r = await rawUpgrade(ports[2]);
          sockets.push(r.socket);
          return r.socket;
        },
        async act(s) {
          s.resume();
          s.write(clientFrame(0x2, bytes(range(1, 100)), { mask: false }));
          await closed(s, 'unmasked');
        },
      },
      {
        kind: 'WebSocket message above maxFrameBytes',
        breaks: 'PB_ERR_FRAME_TOO_LARGE',
        count: 8,
        startAt: anytime,
        dial: async () => {
          const r = await rawUpgrade(ports[2]);
          sockets.push(r.socket);
          return r.socket;
        },
        async act(s) {
          s.resume();
          s.write(clientFrame(0x2, bytes(int(1000)), { declaredLength: DEFAULT_MAX_FRAME_BYTES + range(1, 1e6) }));
          await closed(s, 'ws oversize');
        },
      },
      {
        kind: 'upgrade to a wrong path',
        breaks: null,
        refused: 'ws-wrong-path',
        count: 8,
        startAt: anytime,
        dial: () => dial(ports[2]),
        async act(s) {
          s.resume();
          s.write(
            `GET /nope-${int(100)} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
          );
          await closed(s, 'wrong path');
        },
      },
      {
        kind: 'plain bytes to the TLS port',
        breaks: null,
        refused: 'tls-handshake-failed',
        count: 8,
        startAt: anytime,
        dial: () => dial(ports[3]),
        async act(s) {
          s.resume();
          await writeInPieces(s, Buffer.concat([Buffer.from('5\nhello'), bytes(range(1, 500))]), range(1, 3));
          await closed(s, 'plain to tls');
        },
      },
    ];
    expect(hostile.reduce((n, h) => n + h.count, 0)).toBe(240);
    const breakers = hostile.filter((h) => h.breaks !== null);
    const expectedProtocolErrors = breakers.reduce((n, h) => n + h.count, 0);
    const disconnecting = hostile.filter((h) => h.kind.includes('disconnect')).reduce((n, h) => n + h.count, 0);

    // --- connect all 250, and let the broker accept them, before any traffic ----------------------
    const goods = await Promise.all(Array.from({ length: GOOD }, (_, i) => good(i, ports)));
    const hostileSockets = await Promise.all(hostile.map((h) => Promise.all(Array.from({ length: h.count }, () => (h.dial ?? (() => dial(port)))()))));
    await until(() => broker.stats().accepted >= GOOD + 240, 'all 290 connections accepted');
    const goodClosedEarly: number[] = [];
    goods.forEach((c, i) => c.onClose(() => goodClosedEarly.push(i)));

    // --- well-behaved: 200 sequence-numbered frames each, pipelined in bursts of 20 ---------------
    const sent: Buffer[][] = goods.map(() => []);
    const runGood = async (c: Good, i: number): Promise<void> => {
      for (let seq = 0; seq < MESSAGES; seq += BURST) {
        const burst: Buffer[] = [];
        for (let k = seq; k < seq + BURST; k++) {
          // Binary padding (newlines and digits included) after the sequence number.
          burst.push(Buffer.concat([Buffer.from(`good ${i} seq ${k} `), bytes(int(4) === 0 ? range(200, 3000) : int(64))]));
        }
        sent[i].push(...burst);
        await c.burst(burst);
        await waitEchoes(c, sent[i].length);
        replies += BURST;
        progress.emit('reply');
      }
    };

    // Everything at once: the echo traffic, and each hostile connection at its point of it.
    await Promise.all([
      Promise.all(goods.map((c, i) => runGood(c, i))).then(() => {
        goodDone = true;
      }),
      ...hostile.flatMap((h, k) => hostileSockets[k].map((s, n) => reached(h.startAt()).then(() => h.act(s, n)))),
    ]);

    // Every good connection got every reply, once, in order, and is still open. A sentinel frame
    // flushes out anything that would have come after the last burst (a duplicate, a stray frame).
    goods.forEach((c) => c.send('sentinel'));
    await Promise.all(goods.map((c) => waitEchoes(c, MESSAGES + 1)));
    expect(goodClosedEarly, `well-behaved connections closed ${at}`).toEqual([]);
    goods.forEach((c, i) => {
      const got = echoes(c);
      expect(got.length, `client ${i} (${c.kind}) frame count ${at}`).toBe(MESSAGES + 1);
      const mismatch = sent[i].findIndex((b, k) => !b.equals(got[k]));
      expect(mismatch, `client ${i} (${c.kind}): first reply that differs from what it sent ${at}`).toBe(-1);
      expect(got[MESSAGES].toString()).toBe('sentinel');
      expect(c.closed).toBe(false);
    });

    // The protocol breakers, and only they, were closed with protocol-error, each logged once with its code.
    for (const code of ['PB_ERR_FRAME_BAD_LENGTH', 'PB_ERR_FRAME_HEADER_TOO_LONG', 'PB_ERR_FRAME_TOO_LARGE', 'PB_ERR_WS_PROTOCOL'] as const) {
      const want = breakers.filter((h) => h.breaks === code).reduce((n, h) => n + h.count, 0);
      const lines = tb.logs.filter((l) => l.code === code);
      expect(lines, `${code} log lines ${at}`).toHaveLength(want);
      for (const l of lines) expect(l.remote).toMatch(/^127\.0\.0\.1:\d+$/);
    }
    // The 60 that hung up mid-frame were seen as peer-closed (the broker has no close event: poll with a deadline).
    await until(() => (broker.stats().closed['peer-closed'] ?? 0) >= disconnecting, 'peer-closed count');
    // Every connection is accounted for. The floods broke no rule of the protocol; the only thing
    // that may close them is their own backlog (slow-consumer), and only the big ones get there.
    const stats = broker.stats();
    const countOf = (kind: string): number => hostile.find((h) => h.kind === kind)!.count;
    const slow = stats.closed['slow-consumer'] ?? 0;
    expect(slow).toBeLessThanOrEqual(countOf('flood past the outbound limit'));
    expect(stats.closed, `close reasons ${at}`).toEqual({
      'protocol-error': expectedProtocolErrors,
      'peer-closed': disconnecting,
      ...(slow > 0 ? { 'slow-consumer': slow } : {}),
    });
    // The bad upgrades and the plain bytes to TLS never became connections: refused, by reason.
    for (const reason of ['ws-wrong-path', 'tls-handshake-failed'] as const) {
      expect(stats.refused[reason], `${reason} refusals ${at}`).toBe(hostile.filter((h) => h.refused === reason).reduce((n, h) => n + h.count, 0));
    }
    const stillOpen = GOOD + countOf('half-frame, then silence') + countOf('flood that never reads') + countOf('flood past the outbound limit') - slow;
    expect(stats.live, `live connections ${at}`).toBe(stillOpen);
    // Half-frames followed by silence are not a protocol error: the broker keeps waiting for the rest.
    expect(
      silent.filter((s) => s.closed),
      `silent half-frame connections closed by the broker ${at}`,
    ).toEqual([]);
    // The floods did reach the broker: at least one batch of frames per flood on top of the echo traffic.
    expect(stats.framesIn, `frames in (floods wrote ${floodBytes} bytes) ${at}`).toBeGreaterThan(TOTAL + 40 * 256);

    // Still serving: a new connection echoes, the plugin never trapped.
    const fresh = await client(port);
    fresh.send('still serving');
    expect((await fresh.readFrame(WAIT_MS)).toString()).toBe('still serving');
    expect(broker.pluginHealth).toBe('ok');
    expect(broker.stats().pluginTraps).toBe(0);
  }, 60_000);
});
