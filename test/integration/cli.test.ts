/**
 * `broker serve` as a real process: signals, exit codes, and one-line refusals of bad plugins.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_REASONS, findWitDir } from '../../host/plugin/world.js';
import { spawnBroker } from '../helpers/broker.js';
import { connectClient } from '../helpers/client.js';
import { BROKER_BIN, FIXTURE_SRC_DIR, ROOT, fixture } from '../helpers/paths.js';

/** Runs the CLI to completion; returns exit code and output. */
async function runCli(args: string[], deadlineMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [BROKER_BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  proc.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const timer = setTimeout(() => proc.kill('SIGKILL'), deadlineMs);
  const [code] = await once(proc, 'exit');
  clearTimeout(timer);
  return { code: code as number | null, stdout, stderr };
}

describe('broker serve (process)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plugbroker-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true }); // no temp folder outlives the suite (#14)
  });

  it('stops on SIGTERM: handle-broken(shutdown) for every channel, stop(), exit 0', async () => {
    const b = await spawnBroker(['--plugin', fixture('probe')]);
    try {
      const clients = await Promise.all(Array.from({ length: 4 }, () => connectClient(b.port)));
      for (const c of clients) c.send('ping');
      await Promise.all(clients.map((c) => c.readFrame()));
      b.proc.kill('SIGTERM');
      expect(await b.exited).toBe(0);
      const shutdown = `broken:${CLOSE_REASONS.indexOf('shutdown')}`;
      expect(b.lines.filter((l) => l.msg === shutdown)).toHaveLength(4);
      expect(b.lines.findIndex((l) => l.msg === 'stop')).toBeGreaterThan(b.lines.findLastIndex((l) => l.msg === shutdown));
      await Promise.all(clients.map((c) => c.waitClosed()));
    } finally {
      b.kill();
    }
  });

  it('stops on SIGINT with exit 0', async () => {
    const b = await spawnBroker(['--plugin', fixture('probe')]);
    b.proc.kill('SIGINT');
    expect(await b.exited).toBe(0);
  });

  it('refuses a file that is not WebAssembly with one line', async () => {
    const file = join(dir, 'not.wasm');
    await writeFile(file, 'hello, I am text');
    const r = await runCli(['serve', '--plugin', file, '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('PB_ERR_PLUGIN_NOT_COMPONENT');
  });

  it('refuses a core module that is not a component', async () => {
    const { parse } = await import('@bytecodealliance/jco');
    const file = join(dir, 'core.wasm');
    await writeFile(file, await parse(await readFile(join(FIXTURE_SRC_DIR, 'probe.wat'), 'utf8')));
    const r = await runCli(['serve', '--plugin', file, '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/core WebAssembly module, not a component.*PB_ERR_PLUGIN_NOT_COMPONENT/);
  });

  it('refuses a component of another world, naming what is missing', async () => {
    const { parse, componentEmbed, componentNew } = await import('@bytecodealliance/jco');
    const core = await parse('(module (func (export "run")))');
    const embedded = await componentEmbed({ binary: core, witSource: 'package other:thing; world other { export run: func(); }', world: 'other' });
    const file = join(dir, 'other.wasm');
    await writeFile(file, await componentNew(embedded, undefined));
    const r = await runCli(['serve', '--plugin', file, '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('PB_ERR_PLUGIN_WORLD_MISMATCH');
    expect(r.stderr).toContain('missing exports memory, cabi_realloc, start, stop, handle-connect, handle-msg, handle-broken');
  });

  it('refuses a component whose imports go beyond the host interface, listing them', async () => {
    const { parse, componentEmbed, componentNew } = await import('@bytecodealliance/jco');
    const wat = (await readFile(join(FIXTURE_SRC_DIR, 'probe.wat'), 'utf8')).replace(
      '(memory (export "memory") 1)',
      '(import "$root" "sneaky" (func $sneaky (result i32)))\n  (memory (export "memory") 1)',
    );
    const wit = (await readFile(join(findWitDir(), 'plugin.wit'), 'utf8')) + '\nworld sneaky-plugin { include plugin; import sneaky: func() -> u32; }\n';
    const embedded = await componentEmbed({ binary: await parse(wat), witSource: wit, world: 'sneaky-plugin' });
    const file = join(dir, 'sneaky.wasm');
    await writeFile(file, await componentNew(embedded, undefined));
    const r = await runCli(['serve', '--plugin', file, '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('PB_ERR_PLUGIN_FORBIDDEN_IMPORT');
    expect(r.stderr).toContain('$root#sneaky');
  });

  it('rejects an out-of-range option with exit code 2 and one line naming the flag, before loading anything', async () => {
    const r = await runCli(['serve', '--plugin', fixture('probe'), '--port', '70000']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('broker: --port must be an integer from 0 to 65535, got 70000 [PB_ERR_INVALID_OPTION]\n');
  });

  // The in-process cases are in test/unit/cli.test.ts; these check the real process's status and stream.
  it.each([
    [['serve', '--prot', '1'], 'PB_ERR_USAGE_UNKNOWN_FLAG'],
    [['serve'], 'PB_ERR_USAGE_MISSING_FLAG'],
    [['serve', '--plugin', fixture('probe'), '--port', 'ten'], 'PB_ERR_INVALID_OPTION'],
    [['nonsense'], 'PB_ERR_USAGE_UNKNOWN_COMMAND'],
  ])('exits 2 with one coded line on stderr for broker %j', async (args, code) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^broker: [^\n]* \\[${code}\\]\n$`));
  });

  it('reads --plugin-config from a file with @path', async () => {
    const file = join(dir, 'config.txt');
    await writeFile(file, 'refuse');
    const r = await runCli(['serve', '--plugin', fixture('probe'), '--port', '0', '--plugin-config', `@${file}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('config says refuse');
    expect(r.stderr).toContain('PB_ERR_PLUGIN_START_FAILED');
  });

  it('documents every serve flag in --help', async () => {
    const r = await runCli(['serve', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--plugin', '--host', '--port', '--max-frame-bytes', '--max-outbound-bytes', '--plugin-config', '--log-level']) {
      expect(r.stdout).toContain(flag);
    }
  });
});
