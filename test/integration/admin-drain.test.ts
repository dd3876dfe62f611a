/**
 * `POST /api/v1/drain` (issue #11): lame duck over real sockets. The listener stops accepting and
 * readiness turns 503 at once; open connections keep being served until the grace ends, then they
 * get `shutdown`; the broker then stops.
 */
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { closeReasonCode } from '../../host/plugin/world.js';
import { admin } from '../helpers/admin.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connectClient, type TestClient } from '../helpers/client.js';
import { fixture } from '../helpers/paths.js';

const PROBE = fixture('probe');

let tb: TestBroker | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await tb?.stop();
  tb = undefined;
});

async function connect(): Promise<TestClient> {
  const c = await connectClient(tb!.port);
  clients.push(c);
  return c;
}

/** Resolves with the error code of a connect attempt (or 'connected'). */
async function tryConnect(port: number): Promise<string> {
  const s = net.connect({ host: '127.0.0.1', port });
  try {
    await once(s, 'connect');
    return 'connected';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'error';
  } finally {
    s.destroy();
  }
}

describe('POST /api/v1/drain', () => {
  it('stops accepting and turns /readyz 503 at once; open connections are served until the grace ends, then closed with shutdown', async () => {
    tb = await startBroker({ plugin: PROBE, adminListen: '127.0.0.1:0' });
    const c = await connect();
    const res = await admin(tb.broker, '/api/v1/drain', { body: { graceMs: 1500 } });
    expect(res).toMatchObject({ status: 202, json: { graceMs: 1500, connections: 1 } });
    expect(await admin(tb.broker, '/readyz')).toMatchObject({ status: 503, json: { ready: false, reasons: ['draining'] } });
    expect(await tryConnect(tb.port)).toBe('ECONNREFUSED');
    // Still served during the grace.
    c.send('still served');
    expect((await c.readFrame()).toString()).toBe('still served');
    expect(tb.logs.find((l) => l.msg === 'admin: drain started')).toMatchObject({ graceMs: 1500, remote: expect.any(String) });
    // A second drain is a conflict.
    expect((await admin(tb.broker, '/api/v1/drain', { body: {} })).json.error!.code).toBe('PB_ERR_ADMIN_CONFLICT');
    await c.waitClosed(10_000);
    await tb.broker.whenStopped();
    expect(tb.logs.filter((l) => l.msg === `broken:${closeReasonCode('shutdown')}`)).toHaveLength(1);
    expect(tb.broker.view.phase()).toBe('stopped');
  });

  it('stops as soon as the last connection is gone, before the grace ends', async () => {
    tb = await startBroker({ plugin: PROBE, adminListen: '127.0.0.1:0' });
    const c = await connect();
    const started = Date.now();
    expect((await admin(tb.broker, '/api/v1/drain', { body: { graceMs: 600_000 } })).status).toBe(202);
    c.close();
    await tb.broker.whenStopped();
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(tb.logs.some((l) => l.msg === `broken:${closeReasonCode('peer-closed')}`)).toBe(true);
  });

  it('uses --drain-timeout-ms when the body gives no grace, and refuses a bad one with 400', async () => {
    tb = await startBroker({ plugin: PROBE, adminListen: '127.0.0.1:0', drainTimeoutMs: 700 });
    for (const graceMs of [-1, 1.5, '10', 3_600_001]) {
      const r = await admin(tb.broker, '/api/v1/drain', { body: { graceMs } });
      expect(r.status, String(graceMs)).toBe(400);
    }
    expect(tb.broker.view.phase()).toBe('serving');
    await connect();
    expect((await admin(tb.broker, '/api/v1/drain', { method: 'POST' })).json).toEqual({ graceMs: 700, connections: 1 });
    await tb.broker.whenStopped();
  });
});
