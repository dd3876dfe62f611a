/**
 * `GET /metrics` on a real broker (issue #11): every metric name of the issue, and values that
 * agree with what happened: traffic, closes, refusals, drops, restarts, groups, call timings.
 * Plus the `closed connections` summary log line.
 */
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { IsolationMode } from '../../host/config.js';
import { PLUGIN_CALL_SAMPLE_EVERY } from '../../host/limits.js';
import { admin, metricSample } from '../helpers/admin.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { TestClient } from '../helpers/client.js';
import { fixture } from '../helpers/paths.js';
import { makeTestCert } from '../helpers/tls.js';
import { connectWs, type TestWsClient } from '../helpers/ws-client.js';
import { waitFor } from '../helpers/wait.js';

/** Every metric issue #11 names, with its type (a contract). */
const CONTRACT: readonly [string, string][] = [
  ['plugbroker_connections', 'gauge'],
  ['plugbroker_connections_opened_total', 'counter'],
  ['plugbroker_connections_closed_total', 'counter'],
  ['plugbroker_connections_refused_total', 'counter'],
  ['plugbroker_frames_received_total', 'counter'],
  ['plugbroker_frames_sent_total', 'counter'],
  ['plugbroker_bytes_received_total', 'counter'],
  ['plugbroker_bytes_sent_total', 'counter'],
  ['plugbroker_frames_dropped_total', 'counter'],
  ['plugbroker_plugin_call_duration_seconds', 'histogram'],
  ['plugbroker_plugin_restarts_total', 'counter'],
  ['plugbroker_plugin_health', 'gauge'],
  ['plugbroker_plugin_memory_bytes', 'gauge'],
  ['plugbroker_groups', 'gauge'],
  ['plugbroker_group_deliveries_total', 'counter'],
  ['plugbroker_upstream_node_up', 'gauge'],
];

let tb: TestBroker | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await tb?.stop();
  tb = undefined;
});

async function connect(): Promise<TestClient> {
  const socket = net.connect({ host: '127.0.0.1', port: tb!.port, noDelay: true });
  await once(socket, 'connect');
  const c = new TestClient(socket);
  clients.push(c);
  return c;
}

async function scrape(): Promise<string> {
  const r = await admin(tb!.broker, '/metrics');
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return r.text;
}

describe('GET /metrics', () => {
  it("has every metric of issue #11 with its type, and Node's process metrics", async () => {
    tb = await startBroker({ plugin: fixture('probe'), adminListen: '127.0.0.1:0' });
    const text = await scrape();
    for (const [name, type] of CONTRACT) expect(text, name).toContain(`# TYPE ${name} ${type}\n`);
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds'])
      expect(text, name).toMatch(new RegExp(`^${name} `, 'm'));
  });

  it('counts client connections, frames and bytes as /api/v1/status does', async () => {
    tb = await startBroker({ plugin: fixture('probe'), adminListen: '127.0.0.1:0' });
    const a = await connect();
    const b = await connect();
    for (let i = 0; i < 10; i++) a.send('hello');
    await a.waitFrames(10);
    b.send('0123456789');
    await b.readFrame();
    b.close();
    await waitFor(() => tb!.broker.view.connections().tcp === 1, 'the close');
    const text = await scrape();
    const status = (await admin(tb.broker, '/api/v1/status')).json as { traffic: Record<string, number> };
    expect(metricSample(text, 'plugbroker_connections{transport="tcp"}')).toBe(1);
    expect(metricSample(text, 'plugbroker_connections{transport="wss"}')).toBe(0);
    expect(metricSample(text, 'plugbroker_connections_opened_total')).toBe(2);
    expect(metricSample(text, 'plugbroker_connections_closed_total{reason="peer-closed"}')).toBe(1);
    expect(metricSample(text, 'plugbroker_frames_received_total')).toBe(11);
    expect(metricSample(text, 'plugbroker_frames_sent_total')).toBe(11);
    // 10 × "5\nhello" + "10\n0123456789"
    expect(metricSample(text, 'plugbroker_bytes_received_total')).toBe(83);
    expect(metricSample(text, 'plugbroker_bytes_sent_total')).toBe(83);
    expect(status.traffic).toEqual({ framesIn: 11, framesOut: 11, bytesIn: 83, bytesOut: 83 });
  });

  it('labels connections by transport: tcp, tls, ws, wss', async () => {
    const cert = makeTestCert();
    const ws: TestWsClient[] = [];
    const raw: net.Socket[] = [];
    try {
      tb = await startBroker({
        plugin: fixture('probe'),
        adminListen: '127.0.0.1:0',
        listen: ['tcp://127.0.0.1:0', 'tls://127.0.0.1:0', 'ws://127.0.0.1:0/m', 'wss://127.0.0.1:0/m'],
        tlsCert: cert.certPath,
        tlsKey: cert.keyPath,
      });
      const port = (scheme: string): number => tb!.broker.listeners.find((l) => l.scheme === scheme)!.port;
      const plain = net.connect({ host: '127.0.0.1', port: port('tcp') });
      await once(plain, 'connect');
      const secure = tls.connect({ host: '127.0.0.1', port: port('tls'), rejectUnauthorized: false });
      await once(secure, 'secureConnect');
      raw.push(plain, secure);
      ws.push(await connectWs(`ws://127.0.0.1:${port('ws')}/m`));
      ws.push(await connectWs(`wss://127.0.0.1:${port('wss')}/m`, { rejectUnauthorized: false }));
      await waitFor(() => tb!.broker.view.connections().tls === 1, 'the tls connection');
      const text = await scrape();
      for (const t of ['tcp', 'tls', 'ws', 'wss']) expect(metricSample(text, `plugbroker_connections{transport="${t}"}`), t).toBe(1);
      const channels = (await admin(tb.broker, '/api/v1/channels')).json.channels as { transport: string }[];
      expect(channels.map((c) => c.transport).sort()).toEqual(['tcp', 'tls', 'ws', 'wss']);
      expect(((await admin(tb.broker, '/api/v1/status')).json.listeners as { transport: string }[]).map((l) => l.transport)).toEqual([
        'tcp',
        'tls',
        'ws',
        'wss',
      ]);
    } finally {
      for (const c of ws) c.ws.terminate();
      for (const s of raw) s.destroy();
      cert.remove();
    }
  });

  it('counts refusals and dropped frames by reason', async () => {
    tb = await startBroker({ plugin: fixture('probe'), adminListen: '127.0.0.1:0', maxConnections: 1, rateFrames: 1, rateBurst: 1, rateAction: 'drop' });
    const c = await connect();
    const refused = net.connect({ host: '127.0.0.1', port: tb.port });
    refused.on('error', () => {});
    await once(refused, 'close');
    for (let i = 0; i < 10; i++) c.send(`f${i}`);
    await c.readFrame();
    await waitFor(() => tb!.broker.stats().framesDropped > 0, 'a drop');
    const text = await scrape();
    expect(metricSample(text, 'plugbroker_connections_refused_total{reason="max-connections"}')).toBe(1);
    expect(metricSample(text, 'plugbroker_frames_dropped_total{reason="rate-limited"}')).toBe(tb.broker.stats().framesDropped);
  });

  it('counts plugin restarts and reports health and memory', async () => {
    tb = await startBroker({ plugin: fixture('hostile'), adminListen: '127.0.0.1:0' });
    const c = await connect();
    c.send('!');
    await c.waitClosed();
    await waitFor(() => tb!.broker.pluginHealth === 'ok' && tb!.broker.view.plugin()!.restarts === 1, 'the restart');
    const text = await scrape();
    expect(metricSample(text, 'plugbroker_plugin_restarts_total')).toBe(1);
    expect(metricSample(text, 'plugbroker_plugin_health{state="ok"}')).toBe(1);
    expect(metricSample(text, 'plugbroker_plugin_health{state="restarting"}')).toBe(0);
    expect(metricSample(text, 'plugbroker_connections_closed_total{reason="plugin-failed"}')).toBe(1);
    expect(metricSample(text, 'plugbroker_plugin_memory_bytes')).toBe(tb.broker.pluginMemoryBytes);
  });

  it('counts groups and group deliveries', async () => {
    tb = await startBroker({ plugin: fixture('router'), adminListen: '127.0.0.1:0' });
    const members = [await connect(), await connect(), await connect()];
    for (const m of members) {
      m.send(Buffer.from([0x6a, 1, 0x67])); // "j" 1 "g": join g
      expect((await m.readFrame())[0]).toBe(1);
    }
    // "q" 1 "g" except:u32=0 "hi": group-send, no reply
    members[0].send(Buffer.concat([Buffer.from([0x71, 1, 0x67, 0, 0, 0, 0]), Buffer.from('hi')]));
    for (const m of members) expect((await m.readFrame()).toString()).toBe('hi');
    const text = await scrape();
    expect(metricSample(text, 'plugbroker_groups')).toBe(1);
    expect(metricSample(text, 'plugbroker_group_deliveries_total')).toBe(3);
  });

  it.each<IsolationMode>(['inline', 'worker'])(`times one plugin call in ${PLUGIN_CALL_SAMPLE_EVERY} (%s)`, async (isolation) => {
    tb = await startBroker({ plugin: fixture('probe'), isolation, adminListen: '127.0.0.1:0' });
    const c = await connect();
    const frames = 4 * PLUGIN_CALL_SAMPLE_EVERY;
    for (let i = 0; i < frames; i++) c.send(`m${i}`);
    await c.waitFrames(frames);
    let count = 0;
    await waitFor(async () => {
      count = metricSample(await scrape(), 'plugbroker_plugin_call_duration_seconds_count{export="handle-msg"}') ?? 0;
      return count >= 3;
    }, 'timed calls');
    const text = await scrape();
    const sum = metricSample(text, 'plugbroker_plugin_call_duration_seconds_sum{export="handle-msg"}')!;
    expect(sum).toBeGreaterThan(0);
    expect(sum / count).toBeLessThan(1); // seconds: a probe call is far below a second
    expect(metricSample(text, 'plugbroker_plugin_call_duration_seconds_bucket{le="+Inf",export="handle-msg"}')).toBe(count);
  });
});

describe('the closed connections log line', () => {
  it('summarises client closes by reason once per interval', async () => {
    tb = await startBroker({ plugin: fixture('probe'), closeSummaryIntervalMs: 200 });
    const a = await connect();
    const b = await connect();
    a.close();
    b.send('c'); // probe: channel-close(self)
    await b.waitClosed();
    await waitFor(() => tb!.logs.some((l) => l.msg === 'closed connections'), 'the summary line');
    const lines = tb.logs.filter((l) => l.msg === 'closed connections');
    const total: Record<string, number> = {};
    for (const l of lines) for (const [k, v] of Object.entries(l.closed as Record<string, number>)) total[k] = (total[k] ?? 0) + v;
    expect(total).toEqual({ 'peer-closed': 1, 'closed-by-plugin': 1 });
    expect(lines.every((l) => l.level === 30 && l.intervalMs === 200)).toBe(true);
  });
});
