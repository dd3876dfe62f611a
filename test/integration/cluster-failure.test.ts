/**
 * Failure in a cluster (#12), with a real NATS server and real processes: a node SIGKILLed in the
 * middle of a stream of group sends loses its memberships on the others within the presence timeout
 * while they serve on; NATS killed and restarted leaves every node serving its local clients,
 * drops and counts cross-node sends (nothing queued), and cross-node traffic resumes with the
 * memberships re-announced. A short presence interval (100 ms) keeps the test short; the default
 * (2 s: lost within 7 s) is in docs/cluster.md.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { metricSample } from '../helpers/admin.js';
import { spawnBroker, type SpawnedBroker, type TestBroker } from '../helpers/broker.js';
import { connectClient, type TestClient } from '../helpers/client.js';
import { joinCmd, sendCmd, sizeCmd, startNode, waitUntil } from '../helpers/cluster.js';
import { startNatsServer, type TestNatsServer } from '../helpers/nats-server.js';
import { fixture } from '../helpers/paths.js';

const ROUTER = fixture('router');
const PRESENCE_MS = 100;
/** The documented bound for a lost node or a resumed cluster (issue #12). */
const BOUND_MS = 15_000;

describe('cluster failure', () => {
  let nats: TestNatsServer;
  const nodes: TestBroker[] = [];
  const spawned: SpawnedBroker[] = [];
  const clients: TestClient[] = [];
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await nats.stop();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const s of spawned.splice(0)) s.kill();
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
    if (!nats.running) await nats.restart();
  });

  const node = async (id: string): Promise<TestBroker> => {
    const n = await startNode(nats.url, id, { plugin: ROUTER, clusterPresenceIntervalMs: PRESENCE_MS });
    nodes.push(n);
    return n;
  };
  const client = async (port: number): Promise<TestClient> => {
    const c = await connectClient(port);
    clients.push(c);
    return c;
  };
  const members = async (port: number, n: number, group: string): Promise<TestClient[]> => {
    const cs = await Promise.all(Array.from({ length: n }, () => client(port)));
    for (const c of cs) c.send(joinCmd(group));
    for (const c of cs) expect((await c.readFrame())[0]).toBe(1);
    return cs;
  };
  const size = async (c: TestClient, group: string): Promise<number> => {
    c.send(sizeCmd(group));
    return (await c.readFrame()).readUInt32LE();
  };
  const sizeBecomes = (c: TestClient, group: string, n: number, deadlineMs = 10_000): Promise<void> => {
    let last = -1;
    return waitUntil(
      async () => (last = await size(c, group)) === n,
      deadlineMs,
      () => `group-size ${group} = ${n} (last ${last})`,
    );
  };

  it('drops the memberships of a node SIGKILLed mid-stream within the presence timeout; the survivor serves on untouched (#12)', async () => {
    const a = await node('a');
    const b = await spawnBroker(['--plugin', ROUTER, '--cluster', nats.url, '--node-id', 'b', '--cluster-presence-interval-ms', String(PRESENCE_MS)]);
    spawned.push(b);
    const [sender, localMember] = await members(a.port, 2, 'room');
    const remote = await members(b.port, 3, 'room');
    await sizeBecomes(sender, 'room', 5);
    // A stream from a; b dies in the middle of it.
    const N = 200;
    for (let i = 0; i < N / 2; i++) sender.send(sendCmd('room', `m${i}`, 1, false));
    for (let i = 0; i < 10; i++) expect((await remote[0].readFrame()).toString()).toBe(`m${i}`);
    b.proc.kill('SIGKILL');
    const killedMs = Date.now();
    for (let i = N / 2; i < N; i++) sender.send(sendCmd('room', `m${i}`, 1, false));
    // The local member got every send, in order, whatever happened to b.
    for (let i = 0; i < N; i++) expect((await localMember.readFrame()).toString()).toBe(`m${i}`);
    expect(await b.exited).toBe(null);
    await sizeBecomes(sender, 'room', 2, BOUND_MS);
    const lostAfterMs = Date.now() - killedMs;
    expect(a.broker.stats().cluster!.nodesLost).toBe(1);
    expect(a.broker.clusterNodes()).toEqual([]);
    expect(a.logs.some((l) => l.msg === 'cluster node lost: its memberships are dropped' && l.lost === 'b')).toBe(true);
    // Only a's member now: a send is local only.
    sender.send(sendCmd('room', 'after', 1));
    expect((await sender.readFrame()).readUInt32LE()).toBe(1);
    expect((await localMember.readFrame()).toString()).toBe('after');
    // 3 intervals, checked twice per interval: 3.5 × 100 ms plus scheduling; the bound is the documented one.
    expect(lostAfterMs).toBeLessThan(BOUND_MS);
  });

  it('still publishes to a node taken for lost while it was only stopped, so its members miss nothing when it runs again (#12)', async () => {
    const a = await node('a');
    const b = await spawnBroker(['--plugin', ROUTER, '--cluster', nats.url, '--node-id', 'b', '--cluster-presence-interval-ms', String(PRESENCE_MS)]);
    spawned.push(b);
    const [sender] = await members(a.port, 1, 'room');
    const remote = await members(b.port, 2, 'room');
    await sizeBecomes(sender, 'room', 3);
    // b cannot run (as a process starved of CPU): a takes it for lost and drops its memberships.
    b.proc.kill('SIGSTOP');
    try {
      await waitUntil(
        () => a.broker.stats().cluster!.nodesLost === 1,
        BOUND_MS,
        () => 'a to take the stopped b for lost',
      );
      await sizeBecomes(sender, 'room', 1, BOUND_MS);
      const before = a.broker.stats().cluster!;
      for (let i = 0; i < 20; i++) sender.send(sendCmd('room', `s${i}`, 1, false));
      // Published all the same (the loss grace), though a's table has no member elsewhere.
      await waitUntil(
        () => a.broker.stats().cluster!.groupSendsPublished - before.groupSendsPublished === 20,
        BOUND_MS,
        () => `20 sends published (${a.broker.stats().cluster!.groupSendsPublished - before.groupSendsPublished})`,
      );
      expect(a.broker.stats().cluster!.groupSendsLocalOnly).toBe(before.groupSendsLocalOnly);
    } finally {
      b.proc.kill('SIGCONT');
    }
    // b runs again: its members get every send, in order, and a meets b again.
    for (const c of remote) for (let i = 0; i < 20; i++) expect((await c.readFrame()).toString()).toBe(`s${i}`);
    await sizeBecomes(sender, 'room', 3, BOUND_MS);
  });

  it('keeps serving locally while NATS is down, drops and counts cross-node sends, and resumes with memberships re-announced (#12)', async () => {
    const a = await node('a');
    const b = await node('b');
    const onA = await members(a.port, 2, 'room');
    const onB = await members(b.port, 2, 'room');
    await sizeBecomes(onA[0], 'room', 4);
    await sizeBecomes(onB[0], 'room', 4);
    await nats.kill();
    await waitUntil(
      () => a.broker.clusterStatus!.state !== 'connected' && b.broker.clusterStatus!.state !== 'connected',
      10_000,
      () => 'both nodes to see NATS gone',
    );
    const dropped0 = a.broker.stats().cluster!.sendsDropped;
    // Local clients and local groups work as before; the cross-node part of each send is dropped.
    const M = 50;
    for (let i = 0; i < M; i++) onA[0].send(sendCmd('room', `down${i}`, 1, false));
    for (let i = 0; i < M; i++) expect((await onA[1].readFrame()).toString()).toBe(`down${i}`);
    onB[0].send(sendCmd('room', 'b-local', 1));
    expect((await onB[0].readFrame()).readUInt32LE()).toBeGreaterThanOrEqual(1);
    expect((await onB[1].readFrame()).toString()).toBe('b-local');
    expect(a.broker.stats().cluster!.sendsDropped - dropped0).toBe(M);
    await waitUntil(
      () => a.logs.some((l) => l.code === 'PB_ERR_CLUSTER_SEND_DROPPED'),
      10_000,
      () => 'a PB_ERR_CLUSTER_SEND_DROPPED log line on a',
    );
    // Nothing was kept for later: the client holds no publishes while disconnected.
    expect(a.broker.stats().cluster!.groupSendsPublished).toBe(0);
    const down = await a.broker.scrapeMetrics();
    expect(metricSample(down, 'plugbroker_cluster_sends_dropped_total')).toBe(a.broker.stats().cluster!.sendsDropped);
    expect(metricSample(down, 'plugbroker_cluster_connected')).toBe(0);
    expect(metricSample(down, 'plugbroker_cluster_unacked_bytes')).toBe(0);
    // The others' memberships expire while NATS is away (no presence): a counts its own members only.
    await sizeBecomes(onA[0], 'room', 2);

    await nats.restart();
    const restartedMs = Date.now();
    await waitUntil(
      () => a.broker.clusterStatus!.state === 'connected' && b.broker.clusterStatus!.state === 'connected',
      BOUND_MS,
      () => 'both nodes reconnected',
    );
    // Memberships re-announced: each node counts the other's members again.
    await sizeBecomes(onA[0], 'room', 4, BOUND_MS);
    await sizeBecomes(onB[0], 'room', 4, BOUND_MS);
    const resumedMs = Date.now() - restartedMs;
    onA[0].send(sendCmd('room', 'back', 1));
    expect((await onA[0].readFrame()).readUInt32LE()).toBe(3);
    for (const c of [onA[1], ...onB]) {
      // b's members missed the sends made while NATS was down (at most once): the next frame is the new one.
      expect((await c.readFrame()).toString()).toBe('back');
    }
    expect(a.broker.stats().cluster!.reconnects).toBeGreaterThanOrEqual(1);
    const up = await a.broker.scrapeMetrics();
    expect(metricSample(up, 'plugbroker_cluster_connected')).toBe(1);
    expect(metricSample(up, 'plugbroker_cluster_nodes')).toBe(1);
    expect(metricSample(up, 'plugbroker_cluster_reconnects_total')).toBe(a.broker.stats().cluster!.reconnects);
    expect(metricSample(up, 'plugbroker_cluster_group_sends_published_total')).toBe(1);
    expect(resumedMs).toBeLessThan(BOUND_MS);
  });
});
