/**
 * Per-channel data kept by the broker (#13 §1), through the real ABI from a real plugin (the
 * `channel-data` fixture), in both isolation modes: the data survives a hot swap (the fresh instance
 * reads it back in its resumed `handle-connect`) and a trap, an oversize set returns false and keeps
 * the old data, and the data dies with its channel.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connectClient, type TestClient } from '../helpers/client.js';
import { fixture } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

const MODES = [
  ['inline', {}],
  ['worker', { isolation: 'worker' }],
] as const;

describe.each(MODES)('channel data, %s isolation', (_mode, modeOpts) => {
  let tb: TestBroker | undefined;
  const clients: TestClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await tb?.stop();
    tb = undefined;
  });
  const start = async (opts: { channelDataMaxBytes?: number } = {}): Promise<TestBroker> => {
    tb = await startBroker({ plugin: fixture('channel-data'), ...modeOpts, ...opts });
    return tb;
  };
  const connect = async (): Promise<TestClient> => {
    const c = await connectClient(tb!.port);
    clients.push(c);
    return c;
  };
  /** Sends `frame` and returns the plugin's answer as text. */
  const ask = async (c: TestClient, frame: string): Promise<string> => {
    const before = c.frames.length;
    c.send(frame);
    return (await c.waitFrames(before + 1))[before].toString();
  };

  it('reads back what it set; a channel without data reads empty', async () => {
    await start();
    const a = await connect();
    const b = await connect();
    expect(await ask(a, 'g')).toBe('');
    expect(await ask(a, 'suser=ada')).toBe('1');
    expect(await ask(a, 'g')).toBe('user=ada');
    expect(await ask(b, 'g')).toBe('');
  });

  it('keeps the data across a hot swap: the fresh instance reads it in its resumed handle-connect', async () => {
    const { broker } = await start();
    const a = await connect();
    const b = await connect();
    expect(await ask(a, 'suser=ada')).toBe('1');
    expect(await ask(b, 'ping')).toBe('ping'); // b has no data
    // The fixture is not stateful: the swap replays every live channel as a resumed connect, and
    // the fixture answers a resumed connect with its channel data.
    expect(await broker.reloadPlugin()).toBe('replay');
    expect((await a.waitFrames(2))[1].toString()).toBe('user=ada');
    expect((await b.waitFrames(2))[1].toString()).toBe('');
    expect(await ask(a, 'g')).toBe('user=ada');
    expect(broker.stats().closed).toEqual({});
  });

  it('keeps the data of the other channels across a trap', async () => {
    const { broker } = await start();
    const a = await connect();
    const b = await connect();
    expect(await ask(a, 'sa-data')).toBe('1');
    expect(await ask(b, 'sb-data')).toBe('1');
    a.send('!'); // traps: a ends plugin-failed, b resumes on a fresh instance
    await a.waitClosed();
    await waitFor(() => broker.stats().pluginTraps === 1, 'the trap');
    expect((await b.waitFrames(2))[1].toString()).toBe('b-data'); // the resumed handle-connect
    expect(await ask(b, 'g')).toBe('b-data');
  });

  it('refuses an oversize set with false and keeps the old data', async () => {
    await start({ channelDataMaxBytes: 16 });
    const a = await connect();
    expect(await ask(a, `s${'x'.repeat(16)}`)).toBe('1'); // exactly the limit
    expect(await ask(a, `s${'y'.repeat(17)}`)).toBe('0');
    expect(await ask(a, 'g')).toBe('x'.repeat(16));
  });

  it('refuses a set above the default 4096 bytes', async () => {
    await start();
    const a = await connect();
    expect(await ask(a, `s${'z'.repeat(4097)}`)).toBe('0');
    expect(await ask(a, `s${'z'.repeat(4096)}`)).toBe('1');
  });

  it('clears the data with an empty set, and drops it with the channel', async () => {
    const { broker } = await start();
    const a = await connect();
    expect(await ask(a, 'sgone soon')).toBe('1');
    expect(await ask(a, 's')).toBe('1');
    expect(await ask(a, 'g')).toBe('');
    expect(await ask(a, 'sagain')).toBe('1');
    a.close();
    await waitFor(() => broker.stats().live === 0, 'the channel to close');
    const b = await connect(); // may reuse nothing of a
    expect(await ask(b, 'g')).toBe('');
  });
});
