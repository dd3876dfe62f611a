/**
 * The gateway sample end to end (issue #7): plugins/gateway in front of two logic nodes
 * (examples/logic-server), 200 clients over real TCP. Clients log in, talk to the logic service
 * by name, get pushes and broadcasts; one node is killed mid-test: traffic moves to the survivor,
 * no client connection drops, and every message is answered (the gateway resends what the dead node
 * had not acknowledged).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startLogicServer, type LogicServer } from '../../examples/logic-server/logic-server.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connectClient, type TestClient } from '../helpers/client.js';
import { ROOT } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

// Built by `npm run build` (build:plugins), like the echo plugin.
const GATEWAY = `${ROOT}plugins/gateway/build/gateway.wasm`;
const CLIENTS = 200;
const MESSAGES = 20;

describe('gateway sample', () => {
  let tb: TestBroker | undefined;
  let nodes: LogicServer[] = [];
  const clients: TestClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await tb?.stop();
    tb = undefined;
    await Promise.all(nodes.map((n) => n.kill()));
    nodes = [];
  });

  const setup = async (): Promise<void> => {
    nodes = [await startLogicServer({ name: 'n1' }), await startLogicServer({ name: 'n2' })];
    tb = await startBroker({
      plugin: GATEWAY,
      authDeadlineMs: 2000,
      upstream: { logic: `${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}/least-connections` },
    });
  };
  const login = async (name: string): Promise<TestClient> => {
    const c = await connectClient(tb!.port);
    clients.push(c);
    c.send(`login ${name}`);
    expect((await c.readFrame()).toString()).toBe(`welcome ${name}`);
    return c;
  };

  it('refuses traffic before login and closes the channel', async () => {
    await setup();
    const c = await connectClient(tb!.port);
    clients.push(c);
    c.send('hello');
    expect((await c.readFrame()).toString()).toBe('error: expected "login <name>"');
    await c.waitClosed();
  });

  it('forwards frames to logic with the client identity, and delivers pushes and broadcasts', async () => {
    await setup();
    const ada = await login('ada');
    const bob = await login('bob');
    ada.send('hello');
    expect((await ada.readFrame()).toString()).toMatch(/^n[12]: hello$/);
    // A push from whichever node serves ada reaches ada only.
    ada.send('whoami');
    const adaId = (await ada.readFrame()).toString();
    const pushed = nodes.some((n) => n.push(adaId, 'your turn'));
    expect(pushed).toBe(true);
    expect((await ada.readFrame()).toString()).toBe('your turn');
    // A broadcast from a node reaches every logged-in client.
    bob.send('broadcast gg');
    const got = [(await bob.readFrame()).toString(), (await bob.readFrame()).toString()].sort();
    expect(got).toEqual(['bob: gg', 'sent']);
    expect((await ada.readFrame()).toString()).toBe('bob: gg');
  });

  it('holds messages while every logic node is down and delivers them once one is back (timer retry)', async () => {
    await setup();
    await Promise.all(nodes.map((n) => n.kill()));
    const ada = await login('ada');
    ada.send('are you there');
    // The gateway's upstream channels are refused, every node gets ejected, and its retry timer
    // backs off; the message waits in the gateway. Bring one node back:
    await waitFor(() => tb!.logs.some((l) => l.msg === 'upstream node refused a connection: ejected'), 'a node ejected');
    await nodes[1].restart();
    expect((await ada.readFrame(10_000)).toString()).toBe('n2: are you there');
    expect(tb!.broker.stats().pluginTraps).toBe(0);
  });

  it(`keeps ${CLIENTS} clients connected and answered while a logic node is killed mid-test`, async () => {
    await setup();
    const cs = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => login(`p${i}`)));
    let answered = 0;
    let killed: Promise<void> | undefined;
    const servedBy = { before: new Set<string>(), after: new Set<string>() };
    const run = async (c: TestClient, i: number): Promise<void> => {
      for (let seq = 0; seq < MESSAGES; seq++) {
        c.send(`m${i}-${seq}`);
        const reply = (await c.readFrame(15_000)).toString();
        const [node, body] = reply.split(': ');
        expect(body).toBe(`m${i}-${seq}`); // in order, none lost, none duplicated
        (killed === undefined ? servedBy.before : servedBy.after).add(node);
        if (++answered === (CLIENTS * MESSAGES) / 2) killed = nodes[0].kill();
      }
    };
    await Promise.all(cs.map(run));
    await killed;
    expect(answered).toBe(CLIENTS * MESSAGES);
    expect(servedBy.before).toEqual(new Set(['n1', 'n2']));
    expect(servedBy.after.has('n2')).toBe(true);
    expect(cs.every((c) => !c.closed)).toBe(true);
    expect(tb!.broker.stats().pluginTraps).toBe(0);
    expect(tb!.broker.stats().closed['peer-closed'] ?? 0).toBeGreaterThan(0); // the upstream channels to n1
    expect(tb!.logs.some((l) => typeof l.msg === 'string' && l.msg.startsWith('upstream node dropped a connection'))).toBe(true);
    // Still serving, now from the survivor only.
    cs[0].send('after');
    expect((await cs[0].readFrame()).toString()).toBe('n2: after');
  });
});
