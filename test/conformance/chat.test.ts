/**
 * One list of scenarios for the `chat` plugin (rooms through broker groups, `ping` through a broker
 * timer), run over real TCP against each language's version. Commands: `join <room>` → `joined
 * <room> <members>`; `leave <room>` → `left <room>` / `not in <room>`; `say <room> <text>` →
 * `<room>: <text>` to every other member and `sent <count>` to the sender; `ping <ms>` → `pong`
 * after the delay; `cancel` → `cancelled` / `no ping pending`; `ask <text>` → the answer of a node
 * of the `logic` upstream service; anything else → `error: …`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { startNodes, type UpstreamNode } from '../helpers/upstream-node.js';
import { connectClient, type TestClient } from '../helpers/client.js';
import { CHAT_PLUGINS, inEveryMode, RUN_MODES } from './plugins.js';
import { waitFor } from '../helpers/wait.js';

describe.each(inEveryMode(CHAT_PLUGINS, RUN_MODES))('chat plugin written in $language, $mode', ({ path, options }) => {
  let tb: TestBroker;
  const clients: TestClient[] = [];
  let nodes: UpstreamNode[] = [];
  const connect = async (): Promise<TestClient> => {
    const c = await connectClient(tb.port);
    clients.push(c);
    return c;
  };
  /** Sends `command` and returns the next frame. */
  const ask = async (c: TestClient, command: string): Promise<string> => {
    c.send(command);
    return (await c.readFrame()).toString();
  };

  beforeEach(async () => {
    // One `logic` node (it answers every frame with `<node name>:<frame>`) for `ask`.
    nodes = await startNodes(1);
    tb = await startBroker({ plugin: path, ...options, upstream: { logic: `127.0.0.1:${nodes[0].port}` } });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await tb.stop();
    await Promise.all(nodes.map((n) => n.stop()));
    expect(tb.broker.stats().pluginTraps).toBe(0);
  });

  it('counts the members of a room as they join', async () => {
    const [a, b] = [await connect(), await connect()];
    expect(await ask(a, 'join lobby')).toBe('joined lobby 1');
    expect(await ask(b, 'join lobby')).toBe('joined lobby 2');
    expect(await ask(b, 'join lobby')).toBe('joined lobby 2');
  });

  it('delivers what one member says to every other member of the room, not to the sender', async () => {
    const [a, b, c, outsider] = [await connect(), await connect(), await connect(), await connect()];
    for (const m of [a, b, c]) await ask(m, 'join lobby');
    await ask(outsider, 'join kitchen');
    expect(await ask(a, 'say lobby hello all')).toBe('sent 2');
    expect((await b.readFrame()).toString()).toBe('lobby: hello all');
    expect((await c.readFrame()).toString()).toBe('lobby: hello all');
    expect(await ask(outsider, 'say kitchen anyone?')).toBe('sent 0');
    expect(a.frames).toHaveLength(2); // its own `joined` and `sent`, nothing else
  });

  it('stops delivering to a member that left the room', async () => {
    const [a, b] = [await connect(), await connect()];
    await ask(a, 'join lobby');
    await ask(b, 'join lobby');
    expect(await ask(b, 'leave lobby')).toBe('left lobby');
    expect(await ask(b, 'leave lobby')).toBe('not in lobby');
    expect(await ask(a, 'say lobby anyone?')).toBe('sent 0');
  });

  it('takes a closed connection out of its rooms', async () => {
    const [a, b] = [await connect(), await connect()];
    await ask(a, 'join lobby');
    await ask(b, 'join lobby');
    b.close();
    await waitFor(() => tb.broker.stats().live === 1, 'the close to reach the broker');
    expect(await ask(a, 'say lobby still there?')).toBe('sent 0');
  });

  it('answers a ping with one pong after the delay, through a timer', async () => {
    const c = await connect();
    const t0 = Date.now();
    c.send('ping 50');
    expect((await c.readFrame()).toString()).toBe('pong');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    expect(await ask(c, 'ping 0')).toBe('pong');
    c.send('join after');
    expect((await c.readFrame()).toString()).toBe('joined after 1'); // no second pong in between
  });

  it('never pongs for a ping cancelled before it was due', async () => {
    const c = await connect();
    expect(await ask(c, 'cancel')).toBe('no ping pending');
    c.send('ping 100');
    expect(await ask(c, 'cancel')).toBe('cancelled');
    // A pong from the cancelled timer would come at 100 ms, before this one at 150 ms.
    expect(await ask(c, 'ping 150')).toBe('pong');
    expect(await ask(c, 'join after')).toBe('joined after 1');
    expect(c.frames.map(String)).toEqual(['no ping pending', 'cancelled', 'pong', 'joined after 1']);
  });

  it('keeps serving when a connection with a pending ping closes', async () => {
    const c = await connect();
    c.send('ping 100');
    c.close();
    await waitFor(() => tb.broker.stats().live === 0, 'the close to reach the broker');
    const other = await connect();
    expect(await ask(other, 'ping 150')).toBe('pong');
  });

  it('relays a question to a node of the logic service and its answer back', async () => {
    const [a, b] = [await connect(), await connect()];
    a.send('ask what time is it?');
    b.send('ask who are you?');
    expect((await a.readFrame()).toString()).toBe(`${nodes[0].name}:what time is it?`);
    expect((await b.readFrame()).toString()).toBe(`${nodes[0].name}:who are you?`);
    expect(nodes[0].received.sort()).toEqual(['what time is it?', 'who are you?']);
  });

  it('closes the upstream channel of each answered question', async () => {
    const c = await connect();
    for (let i = 0; i < 3; i++) expect(await ask(c, `ask q${i}`)).toBe(`${nodes[0].name}:q${i}`);
    await waitFor(() => nodes[0].connections === 0, 'the node to see its connections closed');
    expect(nodes[0].accepted).toBe(3);
  });

  it('tells the client when the logic node goes away before answering', async () => {
    await nodes[0].stop(); // refuses connections from now on
    const c = await connect();
    expect(await ask(c, 'ask anyone?')).toBe('error: logic node lost');
  });

  it.each(['hello', 'join ', `join ${'r'.repeat(65)}`, 'say lobby', 'ping soon', 'ping 60001'])('answers %j with an error', async (command) => {
    const c = await connect();
    expect(await ask(c, command)).toMatch(/^error: /);
  });
});
