/**
 * `broker serve --record` and `broker test --replay` (#13 §2): a real broker over real TCP records
 * what a plugin saw and did; the recording replays against another build on the test kit. The chat
 * sample recorded in AssemblyScript replays clean against its C and Rust builds; a build that
 * behaves differently gets the first divergence as a diff (exit 1); a recording that does not parse
 * is one file:line line (exit 2), and so is a replay against a plugin of another world.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../host/cli/program.js';
import { CHAT_PLUGINS, ECHO_PLUGINS, LOGIN_PLUGINS } from '../conformance/plugins.js';
import { startBroker } from '../helpers/broker.js';
import { connectClient } from '../helpers/client.js';
import { fixture } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

async function broker(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: {} });
  return { code, stdout, stderr };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plugbroker-record-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Lines of a recording, parsed. */
async function lines(file: string): Promise<Record<string, unknown>[]> {
  return (await readFile(file, 'utf8'))
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Serves `plugin` with --record, runs `session` against it over TCP, stops; returns the recording's path. */
async function record(
  name: string,
  plugin: string,
  session: (port: number) => Promise<void>,
  opts: { recordMaxBytes?: number; recordOmitPayloads?: boolean; isolation?: 'worker' } = {},
): Promise<string> {
  const file = join(dir, `${name}.jsonl`);
  const tb = await startBroker({ plugin, record: file, ...opts });
  try {
    await session(tb.port);
  } finally {
    await tb.stop();
  }
  return file;
}

/** A chat session: two clients in a room, a ping on a broker timer, a close. */
async function chatSession(port: number): Promise<void> {
  const a = await connectClient(port);
  const b = await connectClient(port);
  a.send('join lobby');
  await a.waitFrames(1);
  b.send('join lobby');
  await b.waitFrames(1);
  a.send('say lobby hello');
  await b.waitFrames(2);
  a.send('ping 30');
  await a.waitFrames(3);
  b.close();
  a.send('say lobby anyone?');
  await a.waitFrames(4);
  a.close();
}

describe('broker serve --record', () => {
  it.each(['inline', 'worker'] as const)('writes the header, every event and every host call with payloads (%s isolation)', async (isolation) => {
    const file = await record(`chat-${isolation}`, CHAT_PLUGINS[0].path, chatSession, isolation === 'worker' ? { isolation } : {});
    const all = await lines(file);
    expect(all[0]).toMatchObject({
      t: 'header',
      format: 'plugbroker-recording',
      version: 1,
      world: 'plugbroker:plugin/timed-plugin@0.2.0',
      plugin: 'chat-as.wasm',
      isolation,
      omitPayloads: false,
    });
    const events = all.filter((l) => l.t !== 'call' && l.t !== 'header');
    expect(events.map((e) => e.t)).toEqual(['connect', 'connect', 'msg', 'msg', 'msg', 'msg', 'timer', 'broken', 'msg', 'broken']);
    expect(Buffer.from(String(events[2].data), 'base64').toString()).toBe('join lobby');
    const calls = all.filter((l) => l.t === 'call');
    // Worker isolation arms timers inside the worker (not through the I/O thread's timers interface): no timer-set line.
    expect(calls.map((c) => c.call)).toEqual(
      expect.arrayContaining(['group-join', 'group-send', 'channel-send', ...(isolation === 'inline' ? ['timer-set'] : [])]),
    );
    const relayed = calls.find((c) => c.call === 'group-send')!;
    expect(Buffer.from(String(relayed.payload), 'base64').toString()).toBe('lobby: hello');
  });

  it('leaves payloads out with --record-omit-payloads, keeping their sizes', async () => {
    const file = await record(
      'omit',
      ECHO_PLUGINS[0].path,
      async (port) => {
        const c = await connectClient(port);
        c.send('secret');
        await c.waitFrames(1);
        c.close();
      },
      { recordOmitPayloads: true },
    );
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain(Buffer.from('secret').toString('base64'));
    const all = await lines(file);
    expect(all.find((l) => l.t === 'msg')).toEqual({ t: 'msg', ms: expect.any(Number), ch: 1, bytes: 6 });
    expect(all.find((l) => l.call === 'channel-send')).toMatchObject({ bytes: 6, result: true });
    expect(all.find((l) => l.call === 'channel-send')).not.toHaveProperty('payload');
    // Such a recording cannot be replayed: one line, exit 2.
    const r = await broker(['test', '--plugin', ECHO_PLUGINS[0].path, '--replay', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`broker: ${file}:1: was recorded with --record-omit-payloads: it has no payloads to replay [PB_ERR_REPLAY_SYNTAX]\n`);
  });

  it('stops at --record-max-bytes with a truncated line; the rest still replays', async () => {
    const file = await record(
      'bounded',
      ECHO_PLUGINS[0].path,
      async (port) => {
        const c = await connectClient(port);
        for (let i = 0; i < 200; i++) c.send(`frame ${i} ${'x'.repeat(50)}`);
        await c.waitFrames(200);
        c.close();
      },
      { recordMaxBytes: 4096 },
    );
    expect((await stat(file)).size).toBeLessThanOrEqual(4096);
    const all = await lines(file);
    expect(all.at(-1)).toMatchObject({ t: 'truncated' });
    const r = await broker(['test', '--plugin', ECHO_PLUGINS[1].path, '--replay', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('the recording was truncated at');
  });
});

describe('broker test --replay', () => {
  let chat: string;
  beforeAll(async () => {
    chat = await record('chat', CHAT_PLUGINS[0].path, chatSession);
  });

  it.each(CHAT_PLUGINS)('replays the AssemblyScript chat recording against the $language build: the same, exit 0', async ({ path }) => {
    const r = await broker(['test', '--plugin', path, '--replay', chat]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/replayed 10 events; the plugin sent the same \(\d+ host calls compared\)/);
  });

  it('reports the first divergence of another build as a diff with the event it followed, exit 1', async () => {
    // Recorded with echo; the probe fixture echoes too, except that it closes the channel on "c…".
    const file = await record('echo', ECHO_PLUGINS[0].path, async (port) => {
      const c = await connectClient(port);
      c.send('hello');
      c.send('close me');
      await c.waitFrames(2);
      c.close();
    });
    const r = await broker(['test', '--plugin', fixture('probe'), '--replay', file]);
    expect(r.code).toBe(1);
    const out = r.stderr.trimEnd().split('\n');
    const msgLine = (await lines(file)).findIndex((l) => l.t === 'msg' && Buffer.from(String(l.data), 'base64').toString() === 'close me') + 1;
    expect(out.at(-1)).toBe(`broker: ${file}:${msgLine}: host call 2 differs, after msg on ch 1 "close me" (output above) [PB_ERR_REPLAY_DIVERGED]`);
    expect(out.slice(0, -1)).toEqual([
      '  - the recorded plugin',
      '  + this build',
      '  = channel-send ch 1 "hello"',
      '  - channel-send ch 1 "close me"',
      '  + channel-close ch 1',
    ]);
  });

  it('refuses a plugin of another world with one line naming both, exit 2', async () => {
    const r = await broker(['test', '--plugin', LOGIN_PLUGINS[0].path, '--replay', chat]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `broker: ${chat} was recorded with a plugin of world plugbroker:plugin/timed-plugin@0.2.0; this plugin is of world plugbroker:plugin/stateful-plugin@0.2.0 [PB_ERR_REPLAY_WORLD_MISMATCH]\n`,
    );
  });

  it.each([
    ['not JSON', (h: string) => `${h}\n{"t":"msg",\n`, 2, 'not JSON'],
    ['no header', () => '{"t":"msg","ms":0,"ch":1,"data":"aGk=","bytes":2}\n', 1, 'not a plugbroker recording header'],
    [
      'an unknown line type',
      (h: string) => `${h}\n{"t":"connect","ms":0,"ch":1,"peer":{"address":"a","port":1,"transport":"tcp","secure":false,"resumed":false}}\n{"t":"bogus"}\n`,
      3,
      't:',
    ],
    ['a bad close reason', (h: string) => `${h}\n{"t":"broken","ms":0,"ch":1,"reason":"bored"}\n`, 2, 'reason:'],
    ['an empty file', () => '', 1, 'is empty'],
  ])('a recording with %s: one file:line line, exit 2', async (_what, make, line, message) => {
    const header = (await readFile(chat, 'utf8')).split('\n')[0];
    const file = join(dir, 'bad.jsonl');
    await writeFile(file, make(header));
    const r = await broker(['test', '--plugin', CHAT_PLUGINS[0].path, '--replay', file]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.stderr.startsWith(`broker: ${file}:${line}: `)).toBe(true);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('[PB_ERR_REPLAY_SYNTAX]');
  });
});

void waitFor;
