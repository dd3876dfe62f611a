/**
 * The live dashboard (issue #11) in real headless Chromium: the page asks for the token, then
 * shows numbers that move with the traffic and agree with `GET /api/v1/status`. Saves a
 * screenshot (to `PLUGBROKER_DASHBOARD_SCREENSHOT` when set: `docs/dashboard.png` is made so).
 */
import net from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { admin } from '../helpers/admin.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { launchChromium, type TestBrowser } from '../helpers/chromium.js';
import { TestClient } from '../helpers/client.js';
import { fixture } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'dashboard-test-token';

let tb: TestBroker | undefined;
let browser: TestBrowser | undefined;
let upstreamNode: net.Server | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await browser?.close();
  browser = undefined;
  await tb?.stop();
  tb = undefined;
  upstreamNode?.close();
  upstreamNode = undefined;
});

async function connect(): Promise<TestClient> {
  const socket = net.connect({ host: '127.0.0.1', port: tb!.port, noDelay: true });
  await once(socket, 'connect');
  const c = new TestClient(socket);
  clients.push(c);
  return c;
}

/** The raw value the page shows in element `id` (its `data-value`). */
function shown(page: Page, id: string): Promise<number> {
  return page.$eval(`#${id}`, (el) => Number((el as HTMLElement).dataset.value));
}

/** Waits until the page shows `expected` in `id` (the page updates once a second). */
async function untilShown(page: Page, id: string, expected: number, deadlineMs = 15_000): Promise<void> {
  await page.waitForFunction(([el, want]) => Number(document.getElementById(el)?.dataset.value) === want, [id, expected] as const, {
    timeout: deadlineMs,
    polling: 100,
  });
}

describe('the dashboard in Chromium', () => {
  it('asks for the token, then shows live numbers that agree with /api/v1/status', async () => {
    upstreamNode = net.createServer((s) => s.on('error', () => {}));
    await new Promise<void>((r) => upstreamNode!.listen(0, '127.0.0.1', r));
    const upstreamPort = (upstreamNode.address() as net.AddressInfo).port;
    tb = await startBroker({ plugin: fixture('router'), adminListen: '127.0.0.1:0', adminToken: TOKEN, upstream: { logic: `127.0.0.1:${upstreamPort}` } });
    browser = await launchChromium();
    const page = await browser.context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`http://127.0.0.1:${tb.broker.adminAddress!.port}/`);

    // A token is needed: a wrong one is refused, the right one opens the page.
    await page.waitForSelector('#token-form:not([hidden])');
    await page.fill('#token-input', 'wrong-token');
    await page.click('#token-form button');
    await page.waitForFunction(() => document.getElementById('token-error')?.textContent === 'That token was refused.');
    await page.fill('#token-input', TOKEN);
    await page.click('#token-form button');
    await page.waitForSelector('#main:not([hidden])');
    await untilShown(page, 'conn-total', 0);
    const framesBefore = await shown(page, 'frames-in-total');

    // Traffic: three clients in groups, a stream of frames for a few seconds.
    const members = [await connect(), await connect(), await connect()];
    const joinGroup = async (c: TestClient, group: string): Promise<void> => {
      c.send(Buffer.concat([Buffer.from([0x6a, group.length]), Buffer.from(group)]));
      expect((await c.readFrame())[0]).toBe(1);
    };
    for (const m of members) await joinGroup(m, 'lobby');
    await joinGroup(members[0], 'red');
    await untilShown(page, 'conn-total', 3);
    await untilShown(page, 'conn-tcp', 3);
    let sawRate = false;
    let sawLatency = false;
    let sent = 0;
    // Traffic in rounds until the page (updated once a second) shows a rate and a latency.
    await waitFor(
      async () => {
        for (const m of members) for (let i = 0; i < 40; i++) m.send(`frame ${sent++}`);
        for (const m of members) await m.waitFrames(m.frames.length + 40, 10_000);
        sawRate ||= (await shown(page, 'frames-in-rate')) > 0;
        sawLatency ||= (await shown(page, 'call-p50')) > 0;
        return sawRate && sawLatency;
      },
      () => `a frame rate (${sawRate}) and a call latency (${sawLatency}) on the page`,
      { deadlineMs: 20_000, intervalMs: 100 },
    );
    expect(sawRate).toBe(true);
    expect(sawLatency).toBe(true);

    // An operator kick shows in the closes table.
    const [victim] = (await admin(tb.broker, '/api/v1/channels?limit=1', { token: TOKEN })).json.channels as { id: number }[];
    expect((await admin(tb.broker, `/api/v1/channels/${victim.id}/close`, { method: 'POST', token: TOKEN })).status).toBe(200);
    await members[0].waitClosed();
    await untilShown(page, 'conn-total', 2);

    // Quiet now: the page's totals equal the API's.
    const status = (await admin(tb.broker, '/api/v1/status', { token: TOKEN })).json as {
      connections: { total: number; opened: number };
      traffic: { framesIn: number; framesOut: number; bytesIn: number; bytesOut: number };
      plugin: { restarts: number; generation: number };
    };
    expect(status.traffic.framesIn).toBeGreaterThan(framesBefore);
    await untilShown(page, 'frames-in-total', status.traffic.framesIn);
    expect(await shown(page, 'frames-out-total')).toBe(status.traffic.framesOut);
    expect(await shown(page, 'bytes-in-total')).toBe(status.traffic.bytesIn);
    expect(await shown(page, 'bytes-out-total')).toBe(status.traffic.bytesOut);
    expect(await shown(page, 'conn-total')).toBe(status.connections.total);
    expect(await shown(page, 'plugin-restarts')).toBe(status.plugin.restarts);
    expect(await page.$eval('#plugin-health', (el) => (el as HTMLElement).dataset.value)).toBe('ok');
    const closedRows = await page.$$eval('#closed-table tr', (rows) => rows.map((r) => Array.from(r.children, (c) => c.textContent)));
    expect(closedRows).toContainEqual(['closed-by-operator', '1']);
    const groupRows = await page.$$eval('#groups-table tr', (rows) => rows.map((r) => Array.from(r.children, (c) => c.textContent)));
    expect(groupRows).toContainEqual(['lobby', '2']);
    const upstreamRows = await page.$$eval('#upstreams-table tr', (rows) => rows.map((r) => Array.from(r.children, (c) => c.textContent)));
    expect(upstreamRows).toContainEqual(['logic', `127.0.0.1:${upstreamPort}`, 'up', '0']);
    expect(await page.$$eval('canvas', (c) => c.length)).toBeGreaterThanOrEqual(6); // the uPlot charts
    expect(pageErrors).toEqual([]);

    const target = process.env.PLUGBROKER_DASHBOARD_SCREENSHOT;
    const dir = target === undefined ? mkdtempSync(join(tmpdir(), 'pb-dashboard-')) : undefined;
    const file = target === undefined ? join(dir!, 'dashboard.png') : resolve(target);
    await page.screenshot({ path: file, fullPage: true });
    expect(statSync(file).size).toBeGreaterThan(10_000);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }, 90_000);
});
