/**
 * examples/chat-web in real headless Chromium (Debian's `chromium`, driven by playwright-core):
 * two pages join one room over ws://, a message typed in one appears in the other, and a broker
 * restart reconnects both, which join their room again. The page loads the client SDK's browser
 * build as plain ES modules, so this is also the test that the build runs in a browser.
 *
 * `PB_UPDATE_SCREENSHOTS=1` writes the screenshot to docs/chat-web.png (the README shows it);
 * otherwise it goes to a temporary folder.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serveChatWeb, type ChatWebSite } from '../../examples/chat-web/serve.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { ROOT } from '../helpers/paths.js';
import { DEADLINE_MS } from '../helpers/sdk-client.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const CHAT_WASM = join(ROOT, 'plugins/chat-as/build/chat-as.wasm');

describe('examples/chat-web in headless Chromium', () => {
  let userDataDir: string;
  let context: BrowserContext;
  let site: ChatWebSite;
  const brokers: TestBroker[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
    site = await serveChatWeb({ port: 0 });
    userDataDir = mkdtempSync(join(tmpdir(), 'plugbroker-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 760, height: 620 },
    });
  });
  afterAll(async () => {
    await context?.close();
    await site?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });
  afterEach(async () => {
    for (const page of context.pages()) await page.close();
    await Promise.all(brokers.splice(0).map((b) => b.stop()));
  });

  async function broker(port = 0): Promise<TestBroker> {
    const b = await startBroker({ plugin: CHAT_WASM, listen: [`ws://127.0.0.1:${port}/chat`] });
    brokers.push(b);
    return b;
  }

  async function open(brokerPort: number, name: string): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(`${name}: ${err.message}`));
    await page.goto(`${site.url}?url=ws://127.0.0.1:${brokerPort}/chat&name=${name}&room=lobby`);
    await connected(page);
    return page;
  }

  const connected = (page: Page): Promise<void> => page.locator('#status[data-state="connected"]').waitFor({ timeout: DEADLINE_MS });
  const line = (page: Page, text: string, nth = 0): Promise<void> => page.locator('#messages li', { hasText: text }).nth(nth).waitFor({ timeout: DEADLINE_MS });

  it('two pages chat in one room, and both reconnect and rejoin after a broker restart', async () => {
    const first = await broker();
    const port = first.port;
    const alice = await open(port, 'alice');
    await alice.click('#join');
    await line(alice, 'joined lobby (1 here)');
    const bob = await open(port, 'bob');
    await bob.click('#join');
    await line(bob, 'joined lobby (2 here)');

    await alice.fill('#text', 'hello from alice');
    await alice.press('#text', 'Enter');
    await line(bob, 'alice: hello from alice');
    await bob.fill('#text', 'hi alice');
    await bob.click('#send');
    await line(alice, 'bob: hi alice');

    // Restart the broker on the same port: both pages see the shutdown, back off, reconnect and
    // join the room again (rooms live in the broker and ended with the old one).
    await first.stop();
    for (const page of [alice, bob]) await page.locator('#status:not([data-state="connected"])').waitFor({ timeout: DEADLINE_MS });
    expect(await alice.locator('#send').isDisabled()).toBe(true);
    await broker(port);
    for (const page of [alice, bob]) {
      await page.locator('#status', { hasText: 'connected (reconnected)' }).waitFor({ timeout: DEADLINE_MS });
      await line(page, 'joined lobby', 1);
    }
    await bob.fill('#text', 'still here after the restart');
    await bob.press('#text', 'Enter');
    await line(alice, 'bob: still here after the restart');

    const shot = process.env.PB_UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs/chat-web.png') : join(userDataDir, 'chat-web.png');
    const png = await alice.screenshot({ path: shot });
    expect(png.length).toBeGreaterThan(1000);
    expect(pageErrors).toEqual([]);
  });

  it('shows a clear line for a ?url= the client cannot use', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${site.url}?url=${encodeURIComponent('tcp://127.0.0.1:1')}`);
    await page.locator('#status', { hasText: 'PB_ERR_CLIENT_UNSUPPORTED_TRANSPORT' }).waitFor({ timeout: DEADLINE_MS });
    expect(errors.join('\n')).toContain('tcp://');
  });

  it('its server serves the page and the SDK build, and nothing else', async () => {
    const get = async (path: string, method = 'GET'): Promise<[number, string | null]> => {
      const res = await fetch(new URL(path, site.url), { method });
      await res.arrayBuffer();
      return [res.status, res.headers.get('content-type')];
    };
    expect(await get('/')).toEqual([200, 'text/html; charset=utf-8']);
    expect(await get('/app.js')).toEqual([200, 'text/javascript; charset=utf-8']);
    expect(await get('/sdk/browser.js')).toEqual([200, 'text/javascript; charset=utf-8']);
    expect((await get('/sdk/transports/websocket.js'))[0]).toBe(200);
    for (const path of ['/serve.js', '/sdk/../package.json', '/sdk/%2e%2e/package.json', '/sdk/browser.d.ts', '/sdk/%E0%A4%A', '/nope']) {
      expect((await get(path))[0], path).toBe(404);
    }
    expect((await get('/', 'POST'))[0]).toBe(405);
  });
});
