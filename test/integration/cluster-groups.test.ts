/**
 * Groups across a cluster (#12): two brokers joined through a real NATS server (nats-server on a
 * free port), clients over real TCP, the hand-written `router` plugin. Cross-node delivery exactly
 * once and in order per sender, `except` across nodes, cluster-wide `group-size` and its updates,
 * one NATS publish per group send whatever the member count, interest-based subscriptions, and
 * malformed messages on the cluster's subjects dropped and counted. Every case runs inline and
 * under worker isolation.
 */
import { connect, headers } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestBroker } from '../helpers/broker.js';
import { connectClient, type TestClient } from '../helpers/client.js';
import { joinCmd, leaveCmd, sendCmd, sizeCmd, startNode, waitUntil } from '../helpers/cluster.js';
import { startNatsServer, type TestNatsServer } from '../helpers/nats-server.js';
import { fixture } from '../helpers/paths.js';

const ROUTER = fixture('router');
const ISOLATIONS = [{ isolation: 'inline' as const }, { isolation: 'worker' as const }];

describe.each(ISOLATIONS)('cluster groups, $isolation isolation', ({ isolation }) => {
  let nats: TestNatsServer;
  let nodes: TestBroker[] = [];
  const clients: TestClient[] = [];
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await nats.stop();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(nodes.map((n) => n.stop()));
    nodes = [];
  });

  const twoNodes = async (maxFrameBytes?: number): Promise<[TestBroker, TestBroker]> => {
    const a = await startNode(nats.url, 'a', { plugin: ROUTER, isolation, maxFrameBytes });
    const b = await startNode(nats.url, 'b', { plugin: ROUTER, isolation, maxFrameBytes });
    nodes.push(a, b);
    // Each must have heard the other's presence before the test relies on announcements.
    await waitUntil(
      () => a.broker.clusterNodes().length === 1 && b.broker.clusterNodes().length === 1,
      10_000,
      () => 'both nodes to know each other',
    );
    return [a, b];
  };
  const client = async (node: TestBroker): Promise<TestClient> => {
    const c = await connectClient(node.port);
    clients.push(c);
    return c;
  };
  const members = async (node: TestBroker, n: number, group: string): Promise<TestClient[]> => {
    const cs = await Promise.all(Array.from({ length: n }, () => client(node)));
    for (const c of cs) c.send(joinCmd(group));
    for (const c of cs) expect((await c.readFrame())[0]).toBe(1);
    return cs;
  };
  /** Proves nothing else is queued for `c`: the router plugin echoes unknown commands, in order. */
  const nothingElse = async (c: TestClient): Promise<void> => {
    c.send('probe');
    expect((await c.readFrame()).toString()).toBe('probe');
  };
  const size = async (c: TestClient, group: string): Promise<number> => {
    c.send(sizeCmd(group));
    return (await c.readFrame()).readUInt32LE();
  };
  /** Waits until `group-size` asked through `c` answers `n`. */
  const sizeBecomes = (c: TestClient, group: string, n: number): Promise<void> => {
    let last = -1;
    return waitUntil(
      async () => (last = await size(c, group)) === n,
      10_000,
      () => `group-size ${group} = ${n} (last ${last})`,
    );
  };

  it('delivers a group send to the members on both nodes exactly once, leaving out the sender (except across nodes)', async () => {
    const [a, b] = await twoNodes();
    const onA = await members(a, 2, 'room');
    const onB = await members(b, 3, 'room');
    await sizeBecomes(onA[0], 'room', 5);
    await sizeBecomes(onB[0], 'room', 5);
    // onA[0] is channel 1 on node a: it sends and excludes itself.
    onA[0].send(sendCmd('room', 'hello', 1));
    expect((await onA[0].readFrame()).readUInt32LE()).toBe(4); // 1 local + 3 on b
    for (const c of [onA[1], ...onB]) expect((await c.readFrame()).toString()).toBe('hello');
    // Exactly once: the next frame each gets is the next send, not a duplicate.
    onB[0].send(sendCmd('room', 'from-b', 1));
    expect((await onB[0].readFrame()).readUInt32LE()).toBe(4);
    for (const c of [onA[0], onA[1], onB[1], onB[2]]) expect((await c.readFrame()).toString()).toBe('from-b');
    for (const c of [...onA, ...onB]) await nothingElse(c); // never its own send, never twice
  });

  it('keeps one sender order across nodes for a burst of sends to several groups', async () => {
    const [a, b] = await twoNodes();
    const [sender] = await members(a, 1, 'x');
    const receivers = await members(b, 3, 'x');
    for (const r of receivers) {
      r.send(joinCmd('y'));
      expect((await r.readFrame())[0]).toBe(1);
    }
    await sizeBecomes(sender, 'x', 4);
    await sizeBecomes(sender, 'y', 3);
    const N = 300;
    for (let i = 0; i < N; i++) sender.send(sendCmd(i % 2 === 0 ? 'x' : 'y', `m${i}`, 1, false));
    const want = Array.from({ length: N }, (_, i) => `m${i}`);
    for (const r of receivers) {
      const got: string[] = [];
      for (let i = 0; i < N; i++) got.push((await r.readFrame(20_000)).toString());
      expect(got).toEqual(want);
      await nothingElse(r);
    }
  });

  it('publishes one NATS message per group send whatever the member count, none for a group only local members are in', async () => {
    const [a, b] = await twoNodes();
    const [sender] = await members(a, 1, 'big');
    await members(b, 40, 'big');
    await sizeBecomes(sender, 'big', 41);
    const before = a.broker.stats().cluster!;
    for (let i = 0; i < 10; i++) {
      sender.send(sendCmd('big', `n${i}`, 1));
      expect((await sender.readFrame()).readUInt32LE()).toBe(40);
    }
    // A group whose members are all on a: nothing goes to NATS.
    await members(a, 3, 'local');
    sender.send(sendCmd('local', 'here'));
    expect((await sender.readFrame()).readUInt32LE()).toBe(3);
    const after = a.broker.stats().cluster!;
    expect(after.groupSendsPublished - before.groupSendsPublished).toBe(10);
    expect(after.groupSendsLocalOnly - before.groupSendsLocalOnly).toBe(1);
    await waitUntil(
      () => b.broker.stats().cluster!.remoteMessages === 10,
      10_000,
      () => `10 messages on b (${b.broker.stats().cluster!.remoteMessages})`,
    );
    expect(b.broker.stats().cluster!.remoteDeliveries).toBe(400);
  });

  it('updates the cluster-wide group-size on joins, leaves and disconnects elsewhere, and unsubscribes an empty group', async () => {
    const [a, b] = await twoNodes();
    const watcher = await client(a);
    const onB = await members(b, 3, 'lobby');
    await sizeBecomes(watcher, 'lobby', 3);
    onB[0].send(leaveCmd('lobby'));
    expect((await onB[0].readFrame())[0]).toBe(1);
    await sizeBecomes(watcher, 'lobby', 2);
    onB[1].close();
    await sizeBecomes(watcher, 'lobby', 1);
    onB[2].close();
    await sizeBecomes(watcher, 'lobby', 0);
    // b has no member left: a send from a reaches no one and is not published.
    watcher.send(sendCmd('lobby', 'anyone?'));
    expect((await watcher.readFrame()).readUInt32LE()).toBe(0);
  });

  it('drops and counts malformed messages on its subjects, and keeps serving', async () => {
    const [a, b] = await twoNodes(1000);
    const onB = await members(b, 1, 'room');
    const [sender] = await members(a, 1, 'room');
    await sizeBecomes(sender, 'room', 2);
    const nc = await connect({ servers: nats.url });
    try {
      const prefix = 'pb.plugbroker.v1';
      nc.publish(`${prefix}.presence`, Buffer.from('not json'));
      nc.publish(`${prefix}.members`, Buffer.from(JSON.stringify({ v: 2, t: 'members', node: 'x', epoch: 1, seq: 1, groups: [] })));
      nc.publish(`${prefix}.members`, Buffer.from(JSON.stringify({ v: 1, t: 'members', node: 'x', epoch: 1, seq: 1, groups: [['', 3]] })));
      nc.publish(`${prefix}.bye`, Buffer.from(JSON.stringify({ v: 1, t: 'presence', node: 'a.b' })));
      const h = headers();
      h.set('X', '1');
      // A group message with headers (not ours) and one above the frame limit.
      nc.publish(`${prefix}.g.${Buffer.from('room').toString('base64url')}`, Buffer.from('injected'), { headers: h });
      nc.publish(`${prefix}.g.${Buffer.from('room').toString('base64url')}`, Buffer.alloc(1001));
      await nc.flush();
    } finally {
      await nc.close();
    }
    await waitUntil(
      () => b.broker.stats().cluster!.malformedDropped >= 6,
      10_000,
      () => `6 malformed on b (${b.broker.stats().cluster!.malformedDropped})`,
    );
    sender.send(sendCmd('room', 'still fine', 1));
    expect((await sender.readFrame()).readUInt32LE()).toBe(1);
    expect((await onB[0].readFrame()).toString()).toBe('still fine'); // nothing injected came before it
    await nothingElse(onB[0]);
    await waitUntil(
      () => b.logs.some((l) => l.code === 'PB_ERR_CLUSTER_BAD_MESSAGE'),
      10_000,
      () => 'a PB_ERR_CLUSTER_BAD_MESSAGE log line on b',
    );
  });
});
