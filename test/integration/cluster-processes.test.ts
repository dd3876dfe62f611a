/**
 * `broker serve --processes` as real processes (#12): two broker processes share one port and
 * one cluster (a real NATS server); a process that is SIGKILLed is restarted and its memberships
 * leave the cluster; SIGTERM to the primary drains every process and exits 0. Bad cluster flags
 * get one line naming the flag and exit 2.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, type LogLine, type SpawnedBroker } from '../helpers/broker.js';
import { connectClient, type TestClient } from '../helpers/client.js';
import { joinCmd, sendCmd, sizeCmd, waitUntil } from '../helpers/cluster.js';
import { startNatsServer, type TestNatsServer } from '../helpers/nats-server.js';
import { BROKER_BIN, ROOT, fixture } from '../helpers/paths.js';

const ROUTER = fixture('router');

/** Runs `broker serve <args>` to completion. */
async function runServe(args: string[], deadlineMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [BROKER_BIN, 'serve', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  proc.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const timer = setTimeout(() => proc.kill('SIGKILL'), deadlineMs);
  const [code] = await once(proc, 'exit');
  clearTimeout(timer);
  return { code: code as number | null, stdout, stderr };
}

describe('broker serve --processes', () => {
  let nats: TestNatsServer;
  let primary: SpawnedBroker | undefined;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await nats.stop();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    if (primary !== undefined && primary.proc.exitCode === null && primary.proc.signalCode === null) {
      // Drain rather than kill: SIGKILL on the primary would leave its broker processes behind.
      primary.proc.kill('SIGTERM');
      await primary.exited;
    }
    primary = undefined;
  });

  const client = async (port: number): Promise<TestClient> => {
    const c = await connectClient(port);
    clients.push(c);
    return c;
  };
  const size = async (c: TestClient, group: string): Promise<number> => {
    c.send(sizeCmd(group));
    return (await c.readFrame()).readUInt32LE();
  };
  const sizeBecomes = (c: TestClient, group: string, n: number): Promise<void> => {
    let last = -1;
    return waitUntil(
      async () => (last = await size(c, group)) === n,
      15_000,
      () => `group-size ${group} = ${n} (last ${last})`,
    );
  };
  const isProcessesListening = (l: LogLine): boolean => l.msg === 'processes listening';

  it('shares one port between two processes joined through the cluster; restarts a killed one, whose memberships leave; drains all on SIGTERM (#12)', async () => {
    primary = await spawnBroker(
      ['--plugin', ROUTER, '--processes', '2', '--cluster', nats.url, '--node-id', 'p', '--cluster-presence-interval-ms', '100'],
      30_000,
    );
    const up = await primary.waitLine(isProcessesListening, 30_000);
    const pids = up.pids as number[];
    expect(pids).toHaveLength(2);
    expect(new Set(pids).size).toBe(2);
    // Both processes listen on the one port (node:cluster hands connections to them in turn).
    const listening = primary.lines.filter((l) => l.msg === 'listening');
    expect(new Set(listening.map((l) => l.pid))).toEqual(new Set(pids));
    expect(new Set(listening.map((l) => l.port))).toEqual(new Set([primary.port]));

    // Six clients over one port; round-robin puts three on each process.
    const cs: TestClient[] = [];
    for (let i = 0; i < 6; i++) {
      const c = await client(primary.port);
      c.send(joinCmd('room'));
      expect((await c.readFrame())[0]).toBe(1);
      cs.push(c);
    }
    // The group spans the two processes: every member sees every member.
    for (const c of cs) await sizeBecomes(c, 'room', 6);
    cs[0].send(sendCmd('room', 'hello', 0));
    // The sender is a member too: its copy is queued during the call, the reply after it.
    for (const c of cs) expect((await c.readFrame()).toString()).toBe('hello');
    expect((await cs[0].readFrame()).readUInt32LE()).toBe(6);

    // SIGKILL one process: its clients lose their connection, the primary restarts it, and the
    // survivors' group-size drops to the members still connected.
    process.kill(pids[0], 'SIGKILL');
    const restarted = await primary.waitLine((l) => l.msg === 'listening' && !pids.includes(l.pid as number), 30_000);
    const closed: TestClient[] = [];
    const alive: TestClient[] = [];
    await waitUntil(
      async () => {
        closed.length = 0;
        alive.length = 0;
        for (const c of cs) (c.closed ? closed : alive).push(c);
        return closed.length > 0;
      },
      10_000,
      () => 'the killed process’s clients to be disconnected',
    );
    expect(closed.length).toBeGreaterThanOrEqual(1);
    expect(alive.length).toBeGreaterThanOrEqual(1);
    expect(primary.lines.some((l) => l.code === 'PB_ERR_PROCESS_EXITED' && l.signal === 'SIGKILL')).toBe(true);
    for (const c of alive) await sizeBecomes(c, 'room', alive.length);

    // The restarted process serves (and joins the cluster again): a new client counts everywhere.
    expect(restarted.port).toBe(primary.port);
    const newcomers: TestClient[] = [];
    for (let i = 0; i < 2; i++) {
      const c = await client(primary.port);
      c.send(joinCmd('room'));
      expect((await c.readFrame())[0]).toBe(1);
      newcomers.push(c);
    }
    for (const c of [...alive, ...newcomers]) await sizeBecomes(c, 'room', alive.length + 2);

    // SIGTERM to the primary drains both processes: every client is closed, exit 0.
    primary.proc.kill('SIGTERM');
    expect(await primary.exited).toBe(0);
    await Promise.all([...alive, ...newcomers].map((c) => c.waitClosed(15_000)));
  });

  it('refuses --processes without --cluster with one line naming the flag, exit 2 (#12)', async () => {
    const r = await runServe(['--plugin', ROUTER, '--port', '0', '--processes', '2']);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^broker: .*--processes.*--cluster.* \[PB_ERR_[A-Z_]+\]$/);
  });

  it('refuses a cluster URL that is not nats:// with one line naming the flag, exit 2 (#12)', async () => {
    for (const bad of ['http://127.0.0.1:4222', 'nats://', 'not a url']) {
      const r = await runServe(['--plugin', ROUTER, '--port', '0', '--cluster', bad]);
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^broker: .*--cluster.* \[PB_ERR_[A-Z_]+\]$/);
    }
  });
});
