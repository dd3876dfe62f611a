/**
 * The gateway sample with its clients split over two broker nodes of a cluster (#12): plugins/gateway
 * on nodes a and b joined through a real nats-server, examples/logic-server behind them as TCP
 * nodes or as members of the NATS service `logic`. Every client is answered through its own node;
 * a broadcast from logic reaches every logged-in client on both nodes exactly once; a push to a
 * user by name (`U`, the per-user group `user:<name>`) reaches it wherever it is connected.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLogicServer, type LogicServer } from '../../examples/logic-server/logic-server.js';
import type { TestBroker } from '../helpers/broker.js';
import { connectClient, type TestClient } from '../helpers/client.js';
import { startNode, waitUntil } from '../helpers/cluster.js';
import { startNatsServer, type TestNatsServer } from '../helpers/nats-server.js';
import { ROOT } from '../helpers/paths.js';

const GATEWAY = `${ROOT}plugins/gateway/build/gateway.wasm`;
const PER_NODE = 10;

describe.each([{ logic: 'tcp' as const }, { logic: 'nats' as const }])('gateway across two nodes, logic over $logic', ({ logic }) => {
  let nats: TestNatsServer;
  let nodes: TestBroker[] = [];
  let servers: LogicServer[] = [];
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
    await Promise.all(servers.map((s) => s.kill()));
    servers = [];
  });

  const setup = async (): Promise<void> => {
    const nat = logic === 'nats' ? { servers: nats.url } : undefined;
    servers = [await startLogicServer({ name: 'n1', nats: nat }), await startLogicServer({ name: 'n2', nats: nat })];
    const upstream = logic === 'nats' ? 'nats' : `${servers.map((s) => `127.0.0.1:${s.port}`).join(',')}/least-connections`;
    for (const id of ['a', 'b']) nodes.push(await startNode(nats.url, id, { plugin: GATEWAY, authDeadlineMs: 5000, upstream: { logic: upstream } }));
  };
  const login = async (node: TestBroker, name: string): Promise<TestClient> => {
    const c = await connectClient(node.port);
    clients.push(c);
    c.send(`login ${name}`);
    expect((await c.readFrame()).toString()).toBe(`welcome ${name}`);
    return c;
  };

  it('answers every client through its node, broadcasts to both nodes once, and pushes to a user on either node', async () => {
    await setup();
    const [a, b] = nodes;
    const onA = await Promise.all(Array.from({ length: PER_NODE }, (_, i) => login(a, `a${i}`)));
    const onB = await Promise.all(Array.from({ length: PER_NODE }, (_, i) => login(b, `b${i}`)));
    // Each node must know the other's memberships (players + one user group per client) before a
    // cross-node send is counted on: announcements take a moment.
    await waitUntil(
      () => a.broker.clusterNodes()[0]?.members === 2 * PER_NODE && b.broker.clusterNodes()[0]?.members === 2 * PER_NODE,
      10_000,
      () => `memberships announced (a knows ${a.broker.clusterNodes()[0]?.members}, b knows ${b.broker.clusterNodes()[0]?.members})`,
    );
    // Client traffic: answered by a logic server, back through the client's own node.
    await Promise.all(
      [...onA, ...onB].map(async (c, i) => {
        c.send(`hello ${i}`);
        expect((await c.readFrame(10_000)).toString()).toMatch(new RegExp(`^n[12]: hello ${i}$`));
      }),
    );
    // A broadcast from a client on a: logic answers the sender and broadcasts through the
    // gateway that forwarded it; the group spans both nodes.
    onA[0].send('broadcast gg');
    const first = [(await onA[0].readFrame(10_000)).toString(), (await onA[0].readFrame(10_000)).toString()].sort();
    expect(first).toEqual(['a0: gg', 'sent']);
    for (const c of [...onA.slice(1), ...onB]) expect((await c.readFrame(10_000)).toString()).toBe('a0: gg');
    // A push by name: logic sends it over any gateway link; the per-user group finds the client.
    for (const target of ['b7', 'a3']) {
      expect(servers[0].pushUser(target, `your turn ${target}`)).toBe(true);
      const c = target.startsWith('a') ? onA[Number(target.slice(1))] : onB[Number(target.slice(1))];
      expect((await c.readFrame(10_000)).toString()).toBe(`your turn ${target}`);
    }
    // Exactly once: nobody got anything else (the next frame of each is the answer to a new message).
    await Promise.all(
      [...onA, ...onB].map(async (c, i) => {
        c.send(`again ${i}`);
        expect((await c.readFrame(10_000)).toString()).toMatch(new RegExp(`^n[12]: again ${i}$`));
      }),
    );
    for (const n of nodes) expect(n.broker.stats().pluginTraps).toBe(0);
  });
});
