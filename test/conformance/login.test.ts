/**
 * One list of scenarios for the stateful `login` plugin, run over real TCP against the
 * AssemblyScript, C and Rust versions. The protocol (docs/plugins.md, "The login sample"): the first
 * frame must be `login <name>` (1 to 32 bytes of name), answered `<greeting> <name>`; every later
 * frame comes back as `<name>: <frame>`; any other first frame gets `error: expected "login <name>"`
 * and the channel is closed. The greeting is the plugin config, `welcome` by default.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BrokerOptions } from '../../host/config.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connectClient, type TestClient } from '../helpers/client.js';
import { inEveryMode, LOGIN_PLUGINS } from './plugins.js';
import { waitFor } from '../helpers/wait.js';

const ERROR_REPLY = 'error: expected "login <name>"';

/** Connections opened and closed per batch in the memory test: in flight at once. */
const CYCLE_BATCH = 100;

describe.each(inEveryMode(LOGIN_PLUGINS))('login plugin written in $language, $mode', ({ path, options }) => {
  let tb: TestBroker | undefined;
  const clients: TestClient[] = [];
  const start = async (opts: Omit<BrokerOptions, 'logger' | 'plugin'> = {}): Promise<TestBroker> => {
    tb = await startBroker({ plugin: path, ...options, ...opts });
    return tb;
  };
  const connect = async (): Promise<TestClient> => {
    const c = await connectClient(tb!.port);
    clients.push(c);
    return c;
  };
  const login = async (name: string): Promise<TestClient> => {
    const c = await connect();
    c.send(`login ${name}`);
    expect((await c.readFrame()).toString()).toBe(`welcome ${name}`);
    return c;
  };

  /** Traps the current test makes the plugin take on purpose (`!trap`). */
  let expectedTraps = 0;

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    if (tb !== undefined) {
      await tb.stop();
      expect(tb.broker.stats().pluginTraps).toBe(expectedTraps);
    }
    tb = undefined;
    expectedTraps = 0;
  });

  it('keeps a logged-in peer logged in across a trap: the name is channel data, kept by the broker', async () => {
    await start();
    const alice = await login('alice');
    const carol = await login('carol');
    const fresh = await connect(); // connected, never logged in
    expectedTraps = 1;
    alice.send('!trap'); // the sample's demo of a trap
    await waitFor(() => tb!.broker.stats().pluginTraps === 1, 'the trap', { deadlineMs: 20_000 });
    await alice.waitClosed(); // the channel whose frame trapped is closed (README, "What happens when a plugin fails")
    // The others resume on the fresh instance, which reads the name back from the channel data.
    carol.send('still here');
    expect((await carol.readFrame()).toString()).toBe('carol: still here');
    // A channel that never logged in has no data: it must still log in first.
    fresh.send('hello');
    expect((await fresh.readFrame()).toString()).toBe(ERROR_REPLY);
  });

  it('welcomes `login <name>` with the name and logs the login', async () => {
    const { logs } = await start();
    await login('alice');
    await waitFor(() => logs.some((l) => l.msg === 'alice logged in'), 'the login log line');
    expect(logs.find((l) => l.msg === 'alice logged in')).toMatchObject({ level: 30 });
  });

  it('prefixes every later frame with the name, including binary frames; heartbeats never reach it', async () => {
    await start();
    const c = await login('bob');
    const binary = Buffer.from([0, 255, 10, 13, 0x80]);
    c.send('hi');
    c.send(''); // a heartbeat: the broker answers it with an empty frame, the plugin never sees it
    c.send(binary);
    c.send('login mallory');
    const frames = (await c.waitFrames(5)).slice(1);
    // The heartbeat's answer comes from the broker and may overtake the plugin's replies.
    expect(frames.filter((f) => f.length === 0)).toHaveLength(1);
    const replies = frames.filter((f) => f.length > 0);
    expect(replies[0].toString()).toBe('bob: hi');
    expect(replies[1].equals(Buffer.concat([Buffer.from('bob: '), binary]))).toBe(true);
    expect(replies[2].toString()).toBe('bob: login mallory');
  });

  it('answers any other first frame with the error frame and closes the channel', async () => {
    await start();
    const c = await connect();
    c.send('hello');
    c.send('login late');
    expect((await c.readFrame()).toString()).toBe(ERROR_REPLY);
    await c.waitClosed();
    expect(c.frames).toHaveLength(1);
    await waitFor(() => tb!.broker.stats().closed['closed-by-plugin'] === 1, 'closed-by-plugin');
  });

  it.each([
    ['an empty name', 'login '],
    ['a name of 33 bytes', `login ${'n'.repeat(33)}`],
    ['a missing space', 'loginalice'],
  ])('refuses %s as the first frame', async (_what, frame) => {
    await start();
    const c = await connect();
    c.send(frame);
    expect((await c.readFrame()).toString()).toBe(ERROR_REPLY);
    await c.waitClosed();
  });

  it('accepts a name of exactly 32 bytes', async () => {
    await start();
    const name = 'n'.repeat(32);
    const c = await login(name);
    c.send('x');
    expect((await c.readFrame()).toString()).toBe(`${name}: x`);
  });

  it('keeps the names of 50 interleaved connections apart', async () => {
    await start();
    const conns = await Promise.all(Array.from({ length: 50 }, (_, i) => login(`user${i}`)));
    for (let round = 0; round < 3; round++) conns.forEach((c, i) => c.send(`r${round}-${i}`));
    await Promise.all(
      conns.map(async (c, i) => {
        const frames = await c.waitFrames(4);
        expect(frames.slice(1).map(String)).toEqual([0, 1, 2].map((r) => `user${i}: r${r}-${i}`));
      }),
    );
  });

  it('authenticates a logged-in channel, so the auth deadline closes only peers that never log in', async () => {
    await start({ authDeadlineMs: 2000 }); // time enough to log in on a loaded machine (#14)
    const alice = await login('alice');
    const silent = await connect();
    await silent.waitClosed();
    expect(tb!.broker.stats().closed['auth-timeout']).toBe(1);
    alice.send('still here');
    expect((await alice.readFrame()).toString()).toBe('alice: still here');
  });

  it('keeps every session across a hot swap to a fresh build of itself (snapshot and restore)', async () => {
    await start();
    const alice = await login('alice');
    const bob = await connect(); // connected, not logged in yet
    alice.send('before');
    expect((await alice.readFrame()).toString()).toBe('alice: before');
    expect(await tb!.broker.reloadPlugin()).toBe('state');
    alice.send('after');
    bob.send('login bob');
    expect((await alice.readFrame()).toString()).toBe('alice: after');
    expect((await bob.readFrame()).toString()).toBe('welcome bob');
    expect(tb!.broker.stats().closed).toEqual({});
  });

  it('uses the plugin config as the greeting', async () => {
    await start({ pluginConfig: 'hello' });
    const c = await connect();
    c.send('login carol');
    expect((await c.readFrame()).toString()).toBe('hello carol');
  });

  it('refuses to start with a greeting longer than 32 bytes, passing its error text on', async () => {
    const err = await startBroker({ plugin: path, ...options, pluginConfig: 'g'.repeat(33) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'PB_ERR_PLUGIN_START_FAILED' });
    // The plugin's own text travels through start's result<_, string>: the ABI under test here.
    expect((err as Error).message).toContain('greeting longer than 32 bytes');
  });

  it('frees per-channel state: linear memory stays flat over 10 000 connect/login/disconnect cycles', async () => {
    await start();
    const broker = tb!.broker;
    let cycles = 0;
    const cycle = async (): Promise<void> => {
      const n = cycles++;
      const c = await connectClient(tb!.port);
      try {
        c.send(`login u${n}`);
        c.send(`m${n}`);
        const [welcome, echoed] = await c.waitFrames(2, 20_000);
        expect(welcome.toString()).toBe(`welcome u${n}`);
        expect(echoed.toString()).toBe(`u${n}: m${n}`);
      } finally {
        c.close();
      }
    };
    const run = async (count: number): Promise<void> => {
      for (let done = 0; done < count; done += CYCLE_BATCH) {
        await Promise.all(Array.from({ length: Math.min(CYCLE_BATCH, count - done) }, cycle));
      }
      // Memory is compared once the broker has delivered every handle-broken.
      await waitFor(() => broker.stats().live === 0, 'every channel to close', { deadlineMs: 20_000 });
    };

    await run(1000); // warm-up: the heap reaches the size that CYCLE_BATCH open channels need
    const before = broker.pluginMemoryBytes;
    await run(10_000);
    expect(broker.pluginMemoryBytes).toBe(before);
    expect(broker.stats().closed['peer-closed']).toBe(11_000);
  }, 120_000);
});
