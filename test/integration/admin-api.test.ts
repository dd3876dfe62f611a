/**
 * The admin listener over real sockets (issue #11): health and readiness, the token, the admin API
 * (status, channels paged and filtered, kick, reload, groups, upstreams) and its answers to bad
 * input. Drain, limits and metrics have their own files.
 */
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { IsolationMode } from '../../host/config.js';
import { closeReasonCode } from '../../host/plugin/world.js';
import { admin } from '../helpers/admin.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { TestClient } from '../helpers/client.js';
import { fixture, ROOT } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

const PROBE = fixture('probe');
const ROUTER = fixture('router');
const UPSTREAM = fixture('upstream');
const HOSTILE = fixture('hostile');
const TOKEN = 'test-token-0123456789';

let tb: TestBroker | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await tb?.stop();
  tb = undefined;
});

async function connect(localAddress?: string): Promise<TestClient> {
  const socket = net.connect({ host: '127.0.0.1', port: tb!.port, localAddress, noDelay: true });
  await once(socket, 'connect');
  const c = new TestClient(socket);
  clients.push(c);
  return c;
}

/** Sends `body` and waits for its echo: afterwards the broker has counted the frame both ways. */
async function echo(c: TestClient, body: string): Promise<void> {
  c.send(body);
  expect((await c.readFrame()).toString()).toBe(body);
}

/** Probe's handle-broken log line for a reason ("broken:<discriminant>"). */
const brokenLine = (reason: Parameters<typeof closeReasonCode>[0]): string => `broken:${closeReasonCode(reason)}`;

describe('health and readiness', () => {
  it('answers /healthz and /readyz without a token, 200 while serving', async () => {
    tb = await startBroker({ plugin: PROBE, adminListen: '127.0.0.1:0', adminToken: TOKEN });
    expect(await admin(tb.broker, '/healthz')).toMatchObject({ status: 200, json: { status: 'alive' } });
    expect(await admin(tb.broker, '/readyz')).toMatchObject({ status: 200, json: { ready: true } });
  });

  it('turns /readyz to 503 once the plugin failed (fail-closed), /healthz stays 200', async () => {
    tb = await startBroker({ plugin: HOSTILE, adminListen: '127.0.0.1:0', onPluginFailure: 'fail-closed' });
    const c = await connect();
    c.send('!');
    await c.waitClosed();
    const ready = await admin(tb.broker, '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.json).toEqual({ ready: false, reasons: ['plugin failed'] });
    expect((await admin(tb.broker, '/healthz')).status).toBe(200);
    expect((await admin(tb.broker, '/api/v1/status')).json.ready).toBe(false);
  });
});

describe('the admin token', () => {
  it('is required for the API and /metrics: 401 without it or with a wrong one', async () => {
    tb = await startBroker({ plugin: PROBE, adminListen: '127.0.0.1:0', adminToken: TOKEN });
    for (const path of ['/api/v1/status', '/metrics', '/api/v1/channels', '/api/v1/events', '/nowhere']) {
      const none = await admin(tb.broker, path);
      expect(none.status, path).toBe(401);
      expect(none.json.error!.code).toBe('PB_ERR_ADMIN_UNAUTHORIZED');
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="plugbroker"');
      expect((await admin(tb.broker, path, { token: `${TOKEN}x` })).status, path).toBe(401);
    }
    expect((await admin(tb.broker, '/api/v1/status', { token: TOKEN })).status).toBe(200);
    expect((await admin(tb.broker, '/metrics', { token: TOKEN })).status).toBe(200);
    const unauthorizedPost = await admin(tb.broker, '/api/v1/drain', { body: {} });
    expect(unauthorizedPost.status).toBe(401);
    expect(tb.broker.view.phase()).toBe('serving'); // the refused drain did nothing
  });

  it('serves the dashboard page itself without a token (it asks for one)', async () => {
    tb = await startBroker({ plugin: PROBE, adminListen: '127.0.0.1:0', adminToken: TOKEN });
    const page = await admin(tb.broker, '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toContain('token-form');
    expect((await admin(tb.broker, '/dashboard/uPlot.iife.min.js')).status).toBe(200);
  });
});

describe('GET /api/v1/status', () => {
  it('gives version, listeners, connection counts, traffic, plugin and groups', async () => {
    tb = await startBroker({ plugin: PROBE, adminListen: '127.0.0.1:0' });
    const a = await connect();
    const b = await connect();
    await echo(a, 'hello');
    await echo(b, 'hi');
    const { status, json } = await admin(tb.broker, '/api/v1/status');
    expect(status).toBe(200);
    expect(json).toMatchObject({
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      phase: 'serving',
      ready: true,
      listeners: [{ transport: 'tcp', host: '127.0.0.1', port: tb.port }],
      connections: { total: 2, byTransport: { tcp: 2, tls: 0, ws: 0, wss: 0 }, opened: 2 },
      // "5\nhello" + "2\nhi" each way
      traffic: { framesIn: 2, framesOut: 2, bytesIn: 11, bytesOut: 11 },
      plugin: { path: PROBE, health: 'ok', generation: 1, restarts: 0, isolation: 'inline' },
      groups: { count: 0, deliveries: 0 },
      upstreams: [],
    });
    expect(json.uptimeSeconds as number).toBeGreaterThanOrEqual(0);
    expect((json.plugin as { memoryBytes: number }).memoryBytes).toBeGreaterThan(0);
  });
});

describe('GET /api/v1/channels', () => {
  it('pages through every client channel with limit and cursor, each listed once in id order', async () => {
    tb = await startBroker({ plugin: PROBE, adminListen: '127.0.0.1:0' });
    for (let i = 0; i < 25; i++) await connect();
    const ids: number[] = [];
    let cursor = '';
    for (let page = 0; page < 4; page++) {
      const { json } = await admin(tb.broker, `/api/v1/channels?limit=10${cursor === '' ? '' : `&cursor=${cursor}`}`);
      const channels = json.channels as { id: number }[];
      ids.push(...channels.map((c) => c.id));
      if (json.nextCursor === null) break;
      expect(channels).toHaveLength(10);
      cursor = json.nextCursor as string;
    }
    expect(ids).toHaveLength(25);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    expect(new Set(ids).size).toBe(25);
  });

  it('filters by address and by authenticated', async () => {
    tb = await startBroker({ plugin: PROBE, adminListen: '127.0.0.1:0', authDeadlineMs: 60_000 });
    const local = await connect();
    const other = await connect('127.0.0.2');
    other.send('@'); // probe: channel-authenticate(self)
    expect((await other.readFrame()).toString()).toBe('1');
    const byAddress = await admin(tb.broker, '/api/v1/channels?address=127.0.0.2');
    expect((byAddress.json.channels as { peer: { address: string; port: number } }[]).map((c) => c.peer)).toEqual([
      { address: '127.0.0.2', port: other.socket.localPort },
    ]);
    const authed = await admin(tb.broker, '/api/v1/channels?authenticated=true');
    expect((authed.json.channels as { authenticated: boolean; peer: { port: number } }[]).map((c) => [c.peer.port, c.authenticated])).toEqual([
      [other.socket.localPort, true],
    ]);
    const notAuthed = await admin(tb.broker, '/api/v1/channels?authenticated=false');
    expect((notAuthed.json.channels as { peer: { port: number } }[]).map((c) => c.peer.port)).toEqual([local.socket.localPort]);
  });

  it('filters by group and shows each channel its groups', async () => {
    tb = await startBroker({ plugin: ROUTER, adminListen: '127.0.0.1:0' });
    const join = async (c: TestClient, group: string): Promise<void> => {
      c.send(Buffer.concat([Buffer.from('j'), Buffer.from([group.length]), Buffer.from(group)]));
      expect((await c.readFrame())[0]).toBe(1);
    };
    const a = await connect();
    const b = await connect();
    await connect();
    await join(a, 'lobby');
    await join(b, 'lobby');
    await join(b, 'red');
    const lobby = await admin(tb.broker, '/api/v1/channels?group=lobby');
    expect((lobby.json.channels as { groups: string[] }[]).map((c) => c.groups)).toEqual([['lobby'], ['lobby', 'red']]);
    expect(((await admin(tb.broker, '/api/v1/channels?group=nobody')).json.channels as unknown[]).length).toBe(0);
    const groups = await admin(tb.broker, '/api/v1/groups');
    expect(groups.json).toEqual({
      groups: [
        { name: 'lobby', size: 2 },
        { name: 'red', size: 1 },
      ],
      nextCursor: null,
    });
    const paged = await admin(tb.broker, '/api/v1/groups?limit=1');
    expect(paged.json).toEqual({ groups: [{ name: 'lobby', size: 2 }], nextCursor: 'lobby' });
    expect((await admin(tb.broker, '/api/v1/groups?limit=1&cursor=lobby')).json).toEqual({ groups: [{ name: 'red', size: 1 }], nextCursor: null });
  });

  it('answers bad queries with 400 and a message', async () => {
    tb = await startBroker({ plugin: PROBE, adminListen: '127.0.0.1:0' });
    for (const q of ['limit=0', 'limit=abc', 'limit=1001', 'cursor=x', 'authenticated=yes', 'colour=red']) {
      const r = await admin(tb.broker, `/api/v1/channels?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.json.error!.code, q).toBe('PB_ERR_ADMIN_BAD_REQUEST');
      expect(r.json.error!.message.length, q).toBeGreaterThan(10);
    }
  });
});

describe('GET /api/v1/channels/<id>', () => {
  it("gives one channel's record; 404 for an unknown id, 400 for a malformed one", async () => {
    tb = await startBroker({ plugin: PROBE, adminListen: '127.0.0.1:0' });
    const c = await connect();
    await echo(c, 'abc');
    const [entry] = (await admin(tb.broker, '/api/v1/channels')).json.channels as { id: number }[];
    const one = await admin(tb.broker, `/api/v1/channels/${entry.id}`);
    expect(one.status).toBe(200);
    expect(one.json).toEqual({
      id: entry.id,
      transport: 'tcp',
      peer: { address: '127.0.0.1', port: c.socket.localPort },
      connectedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      framesIn: 1,
      framesOut: 1,
      bytesIn: 5,
      bytesOut: 5,
      groups: [],
      authenticated: true,
    });
    const unknown = await admin(tb.broker, `/api/v1/channels/${entry.id + 1000}`);
    expect(unknown.status).toBe(404);
    expect(unknown.json.error!.code).toBe('PB_ERR_ADMIN_NOT_FOUND');
    for (const bad of ['abc', '0', '-1', '99999999999']) expect((await admin(tb.broker, `/api/v1/channels/${bad}`)).status, bad).toBe(400);
  });
});

describe.each<IsolationMode>(['inline', 'worker'])('POST /api/v1/channels/<id>/close (%s)', (isolation) => {
  it('closes the channel with closed-by-operator: the plugin gets handle-broken, the peer a FIN', async () => {
    tb = await startBroker({ plugin: PROBE, isolation, adminListen: '127.0.0.1:0' });
    const victim = await connect();
    const bystander = await connect();
    await echo(victim, 'hey'); // (not 'x': probe traps on it)
    const [entry] = (await admin(tb.broker, `/api/v1/channels?limit=1`)).json.channels as { id: number }[];
    const res = await admin(tb.broker, `/api/v1/channels/${entry.id}/close`, { method: 'POST' });
    expect(res).toMatchObject({ status: 200, json: { closed: entry.id } });
    await victim.waitClosed();
    await echo(bystander, 'still here');
    await waitFor(() => tb!.logs.some((l) => l.msg === brokenLine('closed-by-operator')), 'handle-broken(closed-by-operator)');
    expect(tb.logs.filter((l) => l.msg === brokenLine('closed-by-operator'))).toHaveLength(1);
    const logged = tb.logs.find((l) => l.msg === 'admin: channel closed by operator');
    expect(logged).toMatchObject({ channel: entry.id, remote: expect.stringMatching(/^(::ffff:)?127\.0\.0\.1:\d+$/) });
    expect(tb.broker.view.connectionsClosed()['closed-by-operator']).toBe(1);
    // It is gone: a second kick finds nothing.
    expect((await admin(tb.broker, `/api/v1/channels/${entry.id}/close`, { method: 'POST' })).status).toBe(404);
  });
});

describe('POST /api/v1/plugin/reload', () => {
  it('swaps the plugin as SIGHUP does; a refused file is 422 and the running plugin keeps serving', async () => {
    tb = await startBroker({ plugin: PROBE, adminListen: '127.0.0.1:0' });
    const c = await connect();
    const refused = await admin(tb.broker, '/api/v1/plugin/reload', { body: { path: `${ROOT}README.md` } });
    expect(refused.status).toBe(422);
    expect(refused.json.error!.code).toBe('PB_ERR_PLUGIN_NOT_COMPONENT');
    await echo(c, 'after the refusal');
    const ok = await admin(tb.broker, '/api/v1/plugin/reload', { body: {} });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ carried: 'replay', plugin: { path: PROBE, generation: 1 } });
    await echo(c, 'after the swap');
    expect(tb.logs.some((l) => l.msg === 'admin: plugin reload requested' && typeof l.remote === 'string')).toBe(true);
  });

  it('answers a malformed body with 400 and reloads nothing', async () => {
    tb = await startBroker({ plugin: PROBE, adminListen: '127.0.0.1:0' });
    for (const body of ['{', '[1]', '"x"', JSON.stringify({ path: 5 }), JSON.stringify({ path: '' }), JSON.stringify({ file: 'x.wasm' })]) {
      const r = await admin(tb.broker, '/api/v1/plugin/reload', { body });
      expect(r.status, body).toBe(400);
      expect(r.json.error!.code, body).toBe('PB_ERR_ADMIN_BAD_REQUEST');
    }
    expect(tb.logs.some((l) => l.msg === 'plugin reloaded')).toBe(false);
  });
});

describe('GET /api/v1/upstreams', () => {
  it('lists services with the state of each node', async () => {
    const dead = net.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as net.AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r())); // nothing listens there now
    tb = await startBroker({ plugin: UPSTREAM, adminListen: '127.0.0.1:0', upstream: { logic: `127.0.0.1:${port}` } });
    const before = await admin(tb.broker, '/api/v1/upstreams');
    expect(before.json).toEqual({
      upstreams: [{ service: 'logic', policy: 'round-robin', nodes: [{ service: 'logic', node: `127.0.0.1:${port}`, up: true, activeChannels: 0 }] }],
    });
    const c = await connect();
    c.send(Buffer.concat([Buffer.from('o'), Buffer.from([5]), Buffer.from('logick')]));
    await c.readFrame(); // the handle; the connect is refused and the node ejected
    const nodeUp = async (): Promise<boolean> =>
      ((await admin(tb!.broker, '/api/v1/upstreams')).json.upstreams as { nodes: { up: boolean }[] }[])[0].nodes[0].up;
    await waitFor(async () => !(await nodeUp()), 'the node to be shown down', { intervalMs: 20 });
  });
});

describe('bad requests', () => {
  it('answers unknown paths 404, wrong methods 405 with Allow, and oversized bodies 413', async () => {
    tb = await startBroker({ plugin: PROBE, adminListen: '127.0.0.1:0' });
    expect((await admin(tb.broker, '/api/v1/nothing')).json.error!.code).toBe('PB_ERR_ADMIN_NOT_FOUND');
    expect((await admin(tb.broker, '/api/v2/status')).status).toBe(404);
    const wrong = await admin(tb.broker, '/api/v1/drain');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect((await admin(tb.broker, '/api/v1/status', { method: 'POST', body: {} })).status).toBe(405);
    expect((await admin(tb.broker, '/healthz', { method: 'DELETE' })).status).toBe(405);
    const big = await admin(tb.broker, '/api/v1/plugin/reload', { body: JSON.stringify({ path: 'x'.repeat(70 * 1024) }) });
    expect(big.status).toBe(413);
    expect(big.json.error!.code).toBe('PB_ERR_ADMIN_BODY_TOO_LARGE');
    expect((await admin(tb.broker, '/healthz')).status).toBe(200);
  });
});
