/**
 * The admin listener's bounds (issue #11, "bad input"): a capped number of connections, a header
 * timeout for requests that never finish, a bound on pipelined requests, and a request rate that
 * a flood cannot pass while the client listener keeps serving.
 */
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ADMIN_MAX_EVENT_STREAMS,
  ADMIN_HEADERS_TIMEOUT_MS,
  ADMIN_MAX_CONNECTIONS,
  ADMIN_MAX_REQUESTS_PER_CONNECTION,
  ADMIN_MAX_REQUESTS_PER_S,
  ADMIN_REQUEST_BURST,
} from '../../host/limits.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connectClient, type TestClient } from '../helpers/client.js';
import { fixture } from '../helpers/paths.js';

let tb: TestBroker | undefined;
const sockets: net.Socket[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const c of clients.splice(0)) c.close();
  await tb?.stop();
  tb = undefined;
});

async function openRaw(port: number): Promise<{ socket: net.Socket; closed: Promise<number>; data: () => string }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('error', () => {});
  const t0 = Date.now();
  // (not events.once: it rejects on the 'error' a write to a socket closed by the cap raises)
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - t0)));
  await once(socket, 'connect');
  return { socket, closed, data: () => text };
}

describe('admin listener limits', () => {
  it(`holds at most ${ADMIN_MAX_CONNECTIONS} connections and closes those that send no complete request within the header timeout`, async () => {
    tb = await startBroker({ plugin: fixture('probe'), adminListen: '127.0.0.1:0' });
    const port = tb.broker.adminAddress!.port;
    const raws = [];
    for (let i = 0; i < ADMIN_MAX_CONNECTIONS + 8; i++) raws.push(await openRaw(port));
    // Half a request line on each: it never completes.
    for (const r of raws) r.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const closedAt = await Promise.all(raws.map((r) => r.closed));
    const early = closedAt.filter((ms) => ms < ADMIN_HEADERS_TIMEOUT_MS - 1000).length;
    expect(early).toBe(8); // over the cap: closed at accept
    const late = closedAt.filter((ms) => ms >= ADMIN_HEADERS_TIMEOUT_MS - 1000);
    expect(late).toHaveLength(ADMIN_MAX_CONNECTIONS);
    // Those held until the header timeout were told so (408) before the close.
    expect(raws.filter((r) => r.data().startsWith('HTTP/1.1 408')).length).toBe(ADMIN_MAX_CONNECTIONS);
  }, 60_000);

  it(`closes a connection that pipelines more than ${ADMIN_MAX_REQUESTS_PER_CONNECTION} requests`, async () => {
    tb = await startBroker({ plugin: fixture('probe'), adminListen: '127.0.0.1:0' });
    const r = await openRaw(tb.broker.adminAddress!.port);
    r.socket.write('GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(20));
    await r.closed;
    const answered = r.data().split('HTTP/1.1 200').length - 1;
    expect(answered).toBeLessThanOrEqual(ADMIN_MAX_REQUESTS_PER_CONNECTION);
  });

  it(`opens at most ${ADMIN_MAX_EVENT_STREAMS} dashboard event streams; one more is 503`, async () => {
    tb = await startBroker({ plugin: fixture('probe'), adminListen: '127.0.0.1:0' });
    const port = tb.broker.adminAddress!.port;
    const streams: http.ClientRequest[] = [];
    try {
      const open = (): Promise<{ status: number; first: string }> =>
        new Promise((resolve, reject) => {
          const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/events', agent: false }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => {
              text += d;
              // The first snapshot comes at once: its event ends with a blank line.
              if (res.statusCode !== 200 || /event: snapshot\ndata: .*\n\n/.test(text)) resolve({ status: res.statusCode ?? 0, first: text });
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, first: text }));
          });
          req.on('error', reject);
          streams.push(req);
        });
      for (let i = 0; i < ADMIN_MAX_EVENT_STREAMS; i++) {
        const s = await open();
        expect(s.status).toBe(200);
        const data = JSON.parse(/data: (.*)\n/.exec(s.first)![1]) as { connections: { total: number }; phase: string };
        expect(data).toMatchObject({ phase: 'serving', connections: { total: 0 } });
      }
      const refused = await open();
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.first).error.code).toBe('PB_ERR_ADMIN_BUSY');
    } finally {
      for (const s of streams) s.destroy();
    }
  });

  it('serves a flood of admin requests at its rate while the client listener keeps answering', async () => {
    tb = await startBroker({ plugin: fixture('probe'), adminListen: '127.0.0.1:0' });
    const port = tb.broker.adminAddress!.port;
    const client = await connectClient(tb.port);
    clients.push(client);
    const floodMs = 2500;
    const started = Date.now();
    const agent = new http.Agent({ keepAlive: true, maxSockets: ADMIN_MAX_CONNECTIONS });
    let served = 0;
    let refused = 0;
    const get = (): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/status', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
      });
    const flooders = Array.from({ length: ADMIN_MAX_CONNECTIONS }, async () => {
      while (Date.now() - started < floodMs) {
        const status = await get();
        if (status === 200) served++;
        else refused++;
      }
    });
    // Meanwhile: round trips on the client listener.
    let roundTrips = 0;
    let slowestMs = 0;
    while (Date.now() - started < floodMs) {
      const t0 = Date.now();
      client.send(`ping ${roundTrips}`);
      expect((await client.readFrame(10_000)).toString()).toBe(`ping ${roundTrips}`);
      slowestMs = Math.max(slowestMs, Date.now() - t0);
      roundTrips++;
    }
    await Promise.all(flooders);
    const elapsedS = (Date.now() - started) / 1000;
    agent.destroy();
    // The bucket's burst, its rate over the flood, and the requests in flight when it ended.
    expect(served).toBeLessThanOrEqual(ADMIN_REQUEST_BURST + ADMIN_MAX_REQUESTS_PER_S * elapsedS + ADMIN_MAX_CONNECTIONS);
    expect(served).toBeGreaterThan(0);
    expect(refused).toBe(0); // they wait their turn (≤ 32 ahead), none past the queue bound
    // Margins for a loaded machine (#14): a starved listener would answer none in the flood; an answering
    // one manages several, none slower than a couple of seconds even under load.
    expect(roundTrips).toBeGreaterThanOrEqual(5);
    expect(slowestMs).toBeLessThan(5000);
  });
});
