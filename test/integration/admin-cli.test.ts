/**
 * `broker serve` with the admin listener, as the CLI (issue #11): bad admin options are one line
 * and exit 2 before anything listens; an admin address in use exits 1 naming --admin-listen; a
 * drain through the admin API ends the process with exit 0.
 */
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../host/cli/program.js';
import { spawnBroker, type SpawnedBroker } from '../helpers/broker.js';
import { fixture } from '../helpers/paths.js';

const PROBE = fixture('probe');
const dir = mkdtempSync(join(tmpdir(), 'pb-admin-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let spawned: SpawnedBroker | undefined;
afterEach(() => {
  spawned?.kill();
  spawned = undefined;
});

async function cli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: {} });
  return { status, stdout, stderr };
}

describe('broker serve --admin-listen', () => {
  it.each([
    [['--admin-listen', '0.0.0.0:0'], '--admin-listen'],
    [['--admin-listen', 'nowhere'], '--admin-listen'],
    [['--admin-listen', '127.0.0.1:0', '--admin-token', 'a b'], '--admin-token'],
    [['--admin-token', 'tok'], '--admin-token'],
    [['--admin-listen', '127.0.0.1:0', '--admin-token-file', join(dir, 'missing')], '--admin-token-file'],
  ])('refuses %j with one line naming %s, exit 2', async (flags, named) => {
    const r = await cli(['serve', '--plugin', PROBE, '--port', '0', ...flags]);
    expect(r.status).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^broker: .* \[PB_ERR_INVALID_OPTION\]$/);
    expect(lines[0]).toContain(named);
    expect(lines[0]).not.toContain('a b');
  });

  it('exits 1 with PB_ERR_LISTEN naming --admin-listen when its address is taken', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const r = await cli(['serve', '--plugin', PROBE, '--port', '0', '--admin-listen', `127.0.0.1:${port}`]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^broker: cannot listen on 127\.0\.0\.1:\d+ \(admin listener, --admin-listen\): .* \[PB_ERR_LISTEN\]\n$/);
    } finally {
      taken.close();
    }
  });

  it('serves the admin API with a token from a file, and exits 0 once a drain through it completes', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'file-token-42\n');
    spawned = await spawnBroker(['--plugin', PROBE, '--admin-listen', '127.0.0.1:0', '--admin-token-file', tokenFile, '--log-level', 'info']);
    const line = await spawned.waitLine((l) => l.msg === 'admin listening');
    const base = `http://127.0.0.1:${line.port as number}`;
    expect((await fetch(`${base}/api/v1/status`)).status).toBe(401);
    const auth = { authorization: 'Bearer file-token-42' };
    expect((await fetch(`${base}/api/v1/status`, { headers: auth })).status).toBe(200);
    const drain = await fetch(`${base}/api/v1/drain`, { method: 'POST', headers: auth, body: '{"graceMs": 100}' });
    expect(drain.status).toBe(202);
    expect(await spawned.exited).toBe(0);
    expect(spawned.lines.some((l) => l.msg === 'stopped')).toBe(true);
  });
});
