/**
 * One list of scenarios for the echo plugin, run over real TCP against the AssemblyScript, C and
 * Rust versions: the same bytes must come back from each.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeDecimalFrame } from '../../host/framing/decimal-encoder.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connectClient, type TestClient } from '../helpers/client.js';
import { ECHO_PLUGINS, inEveryMode } from './plugins.js';
import { waitFor } from '../helpers/wait.js';

describe.each(inEveryMode(ECHO_PLUGINS))('echo plugin written in $language, $mode', ({ path, options }) => {
  let tb: TestBroker;
  const clients: TestClient[] = [];
  const connect = async (): Promise<TestClient> => {
    const c = await connectClient(tb.port);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    tb = await startBroker({ plugin: path, ...options });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await tb.stop();
    expect(tb.broker.stats().pluginTraps).toBe(0);
  });

  it('sends a frame back unchanged', async () => {
    const c = await connect();
    c.send('hello');
    expect((await c.readFrame()).toString()).toBe('hello');
  });

  it('echoes a body holding all 256 byte values, after the broker answered a heartbeat', async () => {
    const c = await connect();
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    c.send(Buffer.alloc(0));
    c.send(all);
    // The heartbeat's answer comes from the broker, the echo from the plugin: in either order.
    const frames = await c.waitFrames(2);
    expect(frames.filter((f) => f.length === 0)).toHaveLength(1);
    expect(frames.find((f) => f.length > 0)!.equals(all)).toBe(true);
  });

  it('echoes 1000 frames sent in one write, in order', async () => {
    const c = await connect();
    const bodies = Array.from({ length: 1000 }, (_, i) => `msg-${i}`);
    c.write(Buffer.concat(bodies.map((b) => encodeDecimalFrame(Buffer.from(b)))));
    expect((await c.waitFrames(1000)).map(String)).toEqual(bodies);
  });

  it('echoes a frame written one byte at a time', async () => {
    const c = await connect();
    for (const b of encodeDecimalFrame(Buffer.from('byte by byte'))) {
      c.write(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    expect((await c.readFrame()).toString()).toBe('byte by byte');
  });

  it('echoes 64 KiB and 1 MiB bodies intact', async () => {
    const c = await connect();
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
    const bodies = [big.subarray(0, 64 * 1024), big.subarray(1, 64 * 1024 + 2), big];
    for (const b of bodies) c.send(b);
    const frames = await c.waitFrames(3);
    frames.forEach((f, i) => expect(f.equals(bodies[i])).toBe(true));
  });

  it('keeps 100 concurrent connections apart, each echoed in order', async () => {
    const conns = await Promise.all(Array.from({ length: 100 }, () => connect()));
    conns.forEach((c, i) => {
      for (let j = 0; j < 20; j++) c.send(`${i}:${j}`);
    });
    await Promise.all(
      conns.map(async (c, i) => {
        expect((await c.waitFrames(20, 20_000)).map(String)).toEqual(Array.from({ length: 20 }, (_, j) => `${i}:${j}`));
      }),
    );
  });

  it('keeps its linear memory flat over 10 000 echoed frames', async () => {
    const c = await connect();
    const round = async (count: number): Promise<void> => {
      const want = c.frames.length + count;
      c.write(Buffer.concat(Array.from({ length: count }, (_, i) => encodeDecimalFrame(Buffer.from(`frame ${i} `.repeat(1 + (i % 40)))))));
      await c.waitFrames(want, 20_000);
    };
    await round(1000);
    const before = tb.broker.pluginMemoryBytes;
    await round(10_000);
    expect(tb.broker.pluginMemoryBytes).toBe(before);
  });

  it('closes a connection the peer closed as peer-closed and keeps serving others', async () => {
    const a = await connect();
    const b = await connect();
    a.close();
    await waitFor(() => tb.broker.stats().closed['peer-closed'] === 1, 'peer-closed');
    b.send('still here');
    expect((await b.readFrame()).toString()).toBe('still here');
  });
});
