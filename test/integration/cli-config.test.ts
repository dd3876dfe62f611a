/**
 * `broker serve --config` and `broker config check` end to end (issue #11 item 1): a real broker
 * process configured from a YAML file, the environment and flags in that order of precedence;
 * SIGHUP applying the reloadable keys and reporting the others; `config check` printing the
 * resolved options with secrets masked, or every error with file and line.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../host/cli/program.js';
import { spawnBroker, type SpawnedBroker } from '../helpers/broker.js';
import { connectClient, type TestClient } from '../helpers/client.js';
import { fixture } from '../helpers/paths.js';

const PROBE = fixture('probe');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plugbroker-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function inProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env });
  return { status, stdout, stderr };
}

describe('broker serve --config', () => {
  let b: SpawnedBroker | undefined;
  const clients: TestClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    b?.kill();
    await b?.exited;
    b = undefined;
  });
  const connect = async (port: number): Promise<TestClient> => {
    const c = await connectClient(port);
    clients.push(c);
    return c;
  };

  it('takes its options from the file, the environment over the file and flags over both', async () => {
    const file = join(dir, 'precedence.yaml');
    await writeFile(file, `plugin: ${PROBE}\nport: 0\nmax-connections: 1\nlog-level: info\n`);
    b = await spawnBroker(['--config', file, '--max-connections', '2'], 15_000, { port: false, env: { ...process.env, PLUGBROKER_MAX_CONNECTIONS: '9' } });
    // The flag (2) wins over the variable (9) and the file (1): two are served, the third is refused.
    const served = [await connect(b.port), await connect(b.port)];
    for (const c of served) {
      c.send('hi');
      expect((await c.readFrame()).toString()).toBe('hi');
    }
    const third = await connect(b.port);
    await third.waitClosed();
    await b.waitLine((l) => l.msg === 'refused connections');
  });

  it('applies the reloadable keys on SIGHUP, logs the others as needing a restart, and hot-swaps the plugin', async () => {
    const file = join(dir, 'reload.yaml');
    const write = (maxConnections: number, extra = ''): Promise<void> =>
      writeFile(file, `plugin: ${PROBE}\nport: 0\nmax-connections: ${maxConnections}\nlog-level: info\n${extra}`);
    await write(1);
    b = await spawnBroker(['--config', file], 15_000, { port: false });
    const first = await connect(b.port);
    first.send('one');
    expect((await first.readFrame()).toString()).toBe('one');
    const refused = await connect(b.port);
    await refused.waitClosed();

    await write(3, 'drain-timeout-ms: 100\n');
    b.proc.kill('SIGHUP');
    const reloaded = await b.waitLine((l) => l.msg === 'config reloaded');
    expect(reloaded.applied).toEqual(['max-connections']);
    const restart = await b.waitLine((l) => typeof l.msg === 'string' && l.msg.startsWith('config keys changed that take effect only after a restart'));
    expect(restart.keys).toEqual(['drain-timeout-ms']);
    await b.waitLine((l) => l.msg === 'plugin reloaded');
    // The new cap applies to the next connections; the first one was kept through the swap.
    const more = [await connect(b.port), await connect(b.port)];
    for (const c of [first, ...more]) {
      c.send('again');
      expect((await c.readFrame()).toString()).toBe('again');
    }
  });

  it('keeps serving with its running configuration when the file became invalid, saying why', async () => {
    const file = join(dir, 'broken.yaml');
    await writeFile(file, `plugin: ${PROBE}\nport: 0\n`);
    b = await spawnBroker(['--config', file], 15_000, { port: false });
    const c = await connect(b.port);
    await writeFile(file, `plugin: ${PROBE}\nport: 0\nmax-connections: lots\n`);
    b.proc.kill('SIGHUP');
    const refused = await b.waitLine((l) => typeof l.msg === 'string' && l.msg.startsWith('config reload refused'));
    expect(refused.msg).toContain(`${file}:3 max-connections: must be a non-negative integer, got "lots"`);
    expect(refused.code).toBe('PB_ERR_INVALID_OPTION');
    c.send('still');
    expect((await c.readFrame()).toString()).toBe('still');
  });

  it('refuses a bad file before listening: exit 2, one line with file, line and key', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, `plugin: ${PROBE}\nlisten-backlog: 0\n`);
    const r = await inProcess(['serve', '--config', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`broker: ${file}:2 listen-backlog: must be an integer from 1 to 65535, got 0 [PB_ERR_INVALID_OPTION]\n`);
  });

  it('reads the file named by PLUGBROKER_CONFIG when --config is absent', async () => {
    const file = join(dir, 'from-env.yaml');
    await writeFile(file, `plugin: ${PROBE}\nport: 0\nlisten-backlog: 0\n`);
    const r = await inProcess(['serve'], { PLUGBROKER_CONFIG: file });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}:3 listen-backlog:`);
  });
});

describe('broker config check', () => {
  it('prints the resolved options with their sources and secrets masked, exit 0', async () => {
    const file = join(dir, 'check.yaml');
    await writeFile(
      file,
      `plugin: ${PROBE}\nplugin-config: "token=s3cret"\nmax-frame-bytes: 4096\nupstream:\n  logic: { nodes: ["[::1]:7001"], policy: least-connections }\n`,
    );
    const r = await inProcess(['config', 'check', file], { PLUGBROKER_RATE_FRAMES: '50' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toContain('s3cret');
    expect(r.stdout).toContain('plugin-config: "<secret: 12 bytes>"');
    expect(r.stdout).toContain(`max-frame-bytes: 4096 # ${file}:3`);
    expect(r.stdout).toContain('rate-frames: 50 # PLUGBROKER_RATE_FRAMES');
    expect(r.stdout).toContain('port: 10241 # default');
    expect(r.stdout).toContain('max-outbound-bytes: 8388608 # default');
    expect(r.stdout).toContain('- "[::1]:7001"');
  });

  it('prints every error with file, line and key path, exit 2', async () => {
    const file = join(dir, 'errors.yaml');
    await writeFile(file, `plugin: ${PROBE}\nprot: 1\nmax-frame-bytes: -1\nupstream:\n  logic: { nodes: [] }\n`);
    const r = await inProcess(['config', 'check', file]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      `broker: ${file}:2 prot: is not an option (did you mean port?) [PB_ERR_UNKNOWN_OPTION]`,
      `broker: ${file}:3 max-frame-bytes: must be an integer from 1 to 268435456, got -1 [PB_ERR_INVALID_OPTION]`,
      `broker: ${file}:5 upstream.logic.nodes: must be a list of at least one node (host:port with a port from 1 to 65535), got [] [PB_ERR_INVALID_OPTION]`,
    ]);
  });

  it('refuses a file that is not YAML: exit 2 with its line', async () => {
    const file = join(dir, 'syntax.yaml');
    await writeFile(file, 'port: 0\nhost: [oops\n');
    const r = await inProcess(['config', 'check', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^broker: ${file}:\\d+: .* \\[PB_ERR_CONFIG_SYNTAX\\]\\n$`));
  });

  it('names a plugin-config @file that does not exist', async () => {
    const file = join(dir, 'at.yaml');
    await writeFile(file, `plugin: ${PROBE}\nplugin-config: "@missing.txt"\n`);
    const r = await inProcess(['config', 'check', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `broker: ${file}:2 plugin-config: must be text, or @ and a readable file (no such file), got "@${join(dir, 'missing.txt')}" [PB_ERR_INVALID_OPTION]\n`,
    );
  });
});
