/**
 * Hot swap (#5): `reloadPlugin()` (what SIGHUP runs) replaces the plugin under live connections
 * without dropping one. The `counter` fixture (world `stateful-plugin`) answers each frame with
 * the number of frames it has handled, so a carried-over state shows in the replies.
 */
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnBroker, startBroker, type TestBroker } from '../helpers/broker.js';
import { connectClient, type TestClient } from '../helpers/client.js';
import { fixture } from '../helpers/paths.js';

let tb: TestBroker | undefined;
let dir: string;
let pluginPath: string;
const clients: TestClient[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plugbroker-swap-'));
  pluginPath = join(dir, 'plugin.wasm');
  await copyFile(fixture('counter'), pluginPath);
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await tb?.stop();
  tb = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function connect(): Promise<TestClient> {
  const c = await connectClient(tb!.port);
  clients.push(c);
  return c;
}

/** Sends one frame and returns the count the counter plugin answers with. */
async function count(c: TestClient): Promise<number> {
  c.send('x');
  return (await c.readFrame()).readUInt32LE(0);
}

const MODES = [
  ['inline', {}],
  ['worker', { isolation: 'worker', pluginCallBudgetMs: 10_000 }], // far above any honest call under load (#14)
] as const;

describe.each(MODES)('hot swap, %s isolation', (_mode, modeOpts) => {
  it('carries the state over between stateful plugins and drops no connection', async () => {
    tb = await startBroker({ plugin: pluginPath, ...modeOpts });
    const a = await connect();
    const b = await connect();
    expect([await count(a), await count(b), await count(a)]).toEqual([1, 2, 3]);
    expect(await tb.broker.reloadPlugin()).toBe('state');
    expect([await count(b), await count(a)]).toEqual([4, 5]);
    expect(a.closed || b.closed).toBe(false);
    expect(tb.broker.stats().closed).toEqual({});
    expect(tb.logs.find((l) => l.msg === 'plugin reloaded')).toMatchObject({ carried: 'state', connections: 2 });
  });

  it('answers every frame sent while the swap happens, in order', async () => {
    tb = await startBroker({ plugin: pluginPath, ...modeOpts });
    const a = await connect();
    expect(await count(a)).toBe(1);
    const swap = tb.broker.reloadPlugin();
    for (let i = 0; i < 50; i++) a.send('x');
    await swap;
    for (let i = 0; i < 50; i++) a.send('x');
    const frames = await a.waitFrames(101);
    expect(frames.map((f) => f.readUInt32LE(0))).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
  });

  it('replays the live channels as resumed connects when the new plugin is not stateful', async () => {
    tb = await startBroker({ plugin: pluginPath, ...modeOpts });
    const a = await connect();
    expect(await count(a)).toBe(1);
    expect(await tb.broker.reloadPlugin(fixture('counter-plain'))).toBe('replay');
    expect(await count(a)).toBe(1); // a fresh instance: the count starts over
    expect(tb.logs.filter((l) => l.msg === 'connect:resumed')).toHaveLength(1);
    expect(a.closed).toBe(false);
  });

  it('refuses a broken file and keeps serving with the running plugin', async () => {
    tb = await startBroker({ plugin: pluginPath, ...modeOpts });
    const a = await connect();
    expect(await count(a)).toBe(1);
    await writeFile(pluginPath, 'not a plugin');
    await expect(tb.broker.reloadPlugin()).rejects.toMatchObject({ code: 'PB_ERR_PLUGIN_NOT_COMPONENT' });
    expect(tb.logs.find((l) => l.msg === 'plugin reload refused; the running plugin keeps serving')).toBeDefined();
    expect(await count(a)).toBe(2);
    expect(tb.broker.pluginHealth).toBe('ok');
  });
});

describe('hot swap, worker isolation', () => {
  it('refuses a new plugin whose start never returns and keeps serving with the running one', async () => {
    // A start gets 10 × the budget: 5 s for the looping one; 500 ms for every honest call, far above load noise.
    tb = await startBroker({ plugin: pluginPath, isolation: 'worker', pluginCallBudgetMs: 500 });
    const a = await connect();
    expect(await count(a)).toBe(1);
    await expect(tb.broker.reloadPlugin(fixture('loop-start'))).rejects.toMatchObject({ code: 'PB_ERR_PLUGIN_START_FAILED' });
    expect(await count(a)).toBe(2);
  });
});

describe('hot swap, broker serve process', () => {
  it('reloads on SIGHUP without dropping the connection', async () => {
    const proc = await spawnBroker(['--plugin', pluginPath, '--log-level', 'info']);
    try {
      const a = await connectClient(proc.port);
      clients.push(a);
      expect(await count(a)).toBe(1);
      proc.proc.kill('SIGHUP');
      await proc.waitLine((l) => l.msg === 'plugin reloaded');
      expect(await count(a)).toBe(2);
      expect(a.closed).toBe(false);
    } finally {
      proc.kill();
      await proc.exited;
    }
  });
});
