/**
 * Plugin chains (#13 §3): `plugin: [filter…, app]`. The `filter-tag` fixture (world `filter`)
 * prefixes every outbound frame with "<" and reacts to the first byte of inbound frames (see its
 * header); the application behind it is the AssemblyScript echo, or a `.wat` fixture. Each test
 * runs with the application inline and in a worker (filters run inline in both).
 */
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBroker } from '../../host/index.js';
import { spawnBroker, startBroker, type TestBroker } from '../helpers/broker.js';
import { connectClient, type TestClient } from '../helpers/client.js';
import { ECHO_WASM, ROOT, fixture } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

let tb: TestBroker | undefined;
const clients: TestClient[] = [];
let dir: string;
/** Two copies of filter-tag under their own names, so that their log lines can be told apart. */
let filterA: string;
let filterB: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plugbroker-chains-'));
  filterA = join(dir, 'filter-a.wasm');
  filterB = join(dir, 'filter-b.wasm');
  await copyFile(fixture('filter-tag'), filterA);
  await copyFile(fixture('filter-tag'), filterB);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
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

const text = (b: Buffer): string => b.toString('utf8');

/** Log messages of plugin `name`, in order. */
function pluginLogs(name: string): string[] {
  return tb!.logs.filter((l) => l.plugin === name && typeof l.msg === 'string').map((l) => l.msg as string);
}

const MODES = [
  ['inline', {}],
  ['worker', { isolation: 'worker', pluginCallBudgetMs: 2000 }],
] as const;

describe.each(MODES)('plugin chain, application %s', (_mode, modeOpts) => {
  it('passes a client frame through the filter to the application and its reply back through the filter', async () => {
    tb = await startBroker({ plugin: [filterA, ECHO_WASM], ...modeOpts });
    const c = await connect();
    c.send('hello');
    expect(text(await c.readFrame())).toBe('<hello');
    c.send('again');
    expect(text(await c.readFrame())).toBe('<again');
  });

  it('runs two filters: in through both in order, out through both in reverse', async () => {
    tb = await startBroker({ plugin: [filterA, filterB, ECHO_WASM], ...modeOpts });
    const c = await connect();
    c.send('hi');
    expect(text(await c.readFrame())).toBe('<<hi');
  });

  it('lets a filter answer a frame and drop it: the application never sees it', async () => {
    tb = await startBroker({ plugin: [filterA, ECHO_WASM], ...modeOpts });
    const c = await connect();
    c.send('!abc');
    c.send('next');
    // The answer goes straight to the client (first filter), and nothing else came of '!abc'.
    expect((await c.waitFrames(2)).map(text)).toEqual(['filter:abc', '<next']);
  });

  it('delivers both when a filter answers and passes the same frame, the answer first', async () => {
    tb = await startBroker({ plugin: [filterA, ECHO_WASM], ...modeOpts });
    const c = await connect();
    c.send('#q');
    expect((await c.waitFrames(2)).map(text)).toEqual(['seen', '<#q']);
  });

  it('sends an answer of the second filter through the first one', async () => {
    tb = await startBroker({ plugin: [filterA, filterB, ECHO_WASM], ...modeOpts });
    const c = await connect();
    c.send('#z');
    // a answers "seen" (to the client), b answers "seen" (through a: "<seen"), the echo "<<#z".
    expect((await c.waitFrames(3)).map(text)).toEqual(['seen', '<seen', '<<#z']);
  });

  it('calls handle-connect in chain order and handle-broken in reverse order', async () => {
    tb = await startBroker({ plugin: [filterA, filterB, fixture('counter-plain')], ...modeOpts });
    const c = await connect();
    c.send('1');
    expect((await c.readFrame()).subarray(0, 3).toString('latin1')).toBe('<<\u0001');
    c.close();
    await waitFor(() => pluginLogs('filter-a').includes('filter-broken:0'), 'handle-broken reached the first filter');
    const order = tb.logs
      .filter((l) => l.plugin !== undefined && typeof l.msg === 'string' && /^(filter-connect|connect|filter-broken)/.test(l.msg))
      .map((l) => `${String(l.plugin)} ${String(l.msg)}`);
    expect(order).toEqual([
      'filter-a filter-connect',
      'filter-b filter-connect',
      'counter-plain connect',
      'filter-b filter-broken:0',
      'filter-a filter-broken:0',
    ]);
  });

  it('closes the channel when a filter calls channel-close, and every plugin gets handle-broken(closed-by-plugin)', async () => {
    tb = await startBroker({ plugin: [filterA, filterB, ECHO_WASM], ...modeOpts });
    const c = await connect();
    c.send('x');
    await c.waitClosed();
    await waitFor(() => pluginLogs('filter-a').includes('filter-broken:2'), 'handle-broken(closed-by-plugin) reached filter-a');
    expect(pluginLogs('filter-b')).toContain('filter-broken:2');
  });

  it('drops a frame that loops between a filter and the application after 64 passes, logs PB_ERR_CHAIN_LOOP and keeps the channel', async () => {
    tb = await startBroker({ plugin: [filterA, ECHO_WASM], ...modeOpts });
    const c = await connect();
    c.send('L');
    await waitFor(() => tb!.logs.some((l) => l.code === 'PB_ERR_CHAIN_LOOP'), 'the loop was logged');
    c.send('ok');
    expect(text(await c.readFrame())).toBe('<ok');
    expect(c.closed).toBe(false);
    expect(tb.logs.filter((l) => l.code === 'PB_ERR_CHAIN_LOOP')).toHaveLength(1);
  });

  it('restarts a trapping filter under its policy without taking the application or other channels down', async () => {
    tb = await startBroker({ plugin: [filterA, ECHO_WASM], onPluginFailure: 'reload', ...modeOpts });
    const a = await connect();
    const b = await connect();
    a.send('one');
    expect(text(await a.readFrame())).toBe('<one');
    b.send('t'); // filter-a traps about b
    await b.waitClosed();
    expect(tb.broker.stats().closed['plugin-failed']).toBe(1);
    a.send('second'); // (not "t…": that traps)
    expect(text(await a.readFrame())).toBe('<second');
    // The fresh filter instance was told about the channel still open.
    await waitFor(() => pluginLogs('filter-a').includes('filter-connect:resumed'), 'the fresh filter got a resumed connect');
    const c = await connect();
    c.send('more');
    expect(text(await c.readFrame())).toBe('<more');
    expect(tb.broker.pluginHealth).toBe('ok');
  });

  it('sends a group frame through the filter once, to every member', async () => {
    tb = await startBroker({ plugin: [filterA, fixture('router')], ...modeOpts });
    const a = await connect();
    const b = await connect();
    const join = Buffer.from([0x6a, 1, 0x67]); // "j" 1 "g"
    a.send(join);
    b.send(join);
    expect([...(await a.readFrame())]).toEqual([0x3c, 1]);
    expect([...(await b.readFrame())]).toEqual([0x3c, 1]);
    // "q" 1 "g" except:0 "hey": group-send without reply
    a.send(Buffer.concat([Buffer.from([0x71, 1, 0x67, 0, 0, 0, 0]), Buffer.from('hey')]));
    expect(text(await a.readFrame())).toBe('<hey');
    expect(text(await b.readFrame())).toBe('<hey');
  });
});

/** The pass-through filter samples, one per SDK. */
const FILTER_SAMPLES = [
  ['AssemblyScript', join(ROOT, 'plugins/filter-as/build/filter-as.wasm')],
  ['C', join(ROOT, 'plugins/filter-c/build/filter-c.wasm')],
  ['Rust', join(ROOT, 'plugins/filter-rust/build/filter-rust.wasm')],
] as const;

describe.each(MODES)('pass-through filter samples, application %s', (_mode, modeOpts) => {
  it.each(FILTER_SAMPLES)('%s: passes frames both ways unchanged, group frames too', async (_lang, filter) => {
    tb = await startBroker({ plugin: [filter, fixture('router')], ...modeOpts });
    const a = await connect();
    const b = await connect();
    a.send('plain frame');
    expect(text(await a.readFrame())).toBe('plain frame');
    const join = Buffer.from([0x6a, 1, 0x67]); // "j" 1 "g"
    a.send(join);
    b.send(join);
    expect([...(await a.readFrame())]).toEqual([1]);
    expect([...(await b.readFrame())]).toEqual([1]);
    // "q" 1 "g" except:a "hey": a group send leaving the sender out
    const except = Buffer.alloc(4);
    except.writeUInt32LE(0, 0);
    a.send(Buffer.concat([Buffer.from([0x71, 1, 0x67]), except, Buffer.from('to all')]));
    expect(text(await a.readFrame())).toBe('to all');
    expect(text(await b.readFrame())).toBe('to all');
  });
});

describe('plugin chain configuration', () => {
  it('refuses a plain plugin in front of another with PB_ERR_PLUGIN_WORLD_MISMATCH', async () => {
    const broker = createBroker({ plugin: [ECHO_WASM, ECHO_WASM], port: 0, logLevel: 'silent' });
    await expect(broker.start()).rejects.toMatchObject({ code: 'PB_ERR_PLUGIN_WORLD_MISMATCH' });
    await broker.stop();
  });

  it('runs a chain from repeated --plugin flags of broker serve', async () => {
    const proc = await spawnBroker(['--plugin', filterA, '--plugin', ECHO_WASM]);
    try {
      const c = await connectClient(proc.port);
      clients.push(c);
      c.send('cli');
      expect(text(await c.readFrame())).toBe('<cli');
    } finally {
      proc.kill();
      await proc.exited;
    }
  });

  it('runs a chain from a plugin list in a config file, paths relative to the file', async () => {
    const file = join(dir, 'chain.yaml');
    await writeFile(file, `plugin:\n  - filter-a.wasm\n  - ${ECHO_WASM}\nport: 0\n`);
    const proc = await spawnBroker(['--config', file], 15_000, { port: false });
    try {
      const c = await connectClient(proc.port);
      clients.push(c);
      c.send('file');
      expect(text(await c.readFrame())).toBe('<file');
    } finally {
      proc.kill();
      await proc.exited;
    }
  });

  it('takes a list of one as the plugin itself', async () => {
    tb = await startBroker({ plugin: [ECHO_WASM] });
    expect(tb.broker.options.plugin).toBe(ECHO_WASM);
    const c = await connect();
    c.send('plain');
    expect(text(await c.readFrame())).toBe('plain');
  });
});
