/**
 * The `groups` interface over real TCP, with the hand-written `router` plugin
 * (test/fixtures/plugins/router.wat): joins, sends to a group with and without an exception,
 * ordering with unicast frames, cleanup on disconnect, and batching of consecutive group sends.
 * Every case runs inline and under worker isolation (the worker answers from its membership
 * mirror and sends through effects: README, Isolation).
 */
import { describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { useClients, type TestClient } from '../helpers/client.js';
import { fixture } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

const ROUTER = fixture('router');

const name = (g: string): Buffer => Buffer.concat([Buffer.of(Buffer.byteLength(g)), Buffer.from(g)]);
const join = (g: string): Buffer => Buffer.concat([Buffer.from('j'), name(g)]);
const leave = (g: string): Buffer => Buffer.concat([Buffer.from('l'), name(g)]);
const size = (g: string): Buffer => Buffer.concat([Buffer.from('n'), name(g)]);
const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};
/** group-send with a reply ('b') or without ('q'). */
const gsend = (g: string, msg: string, except = 0, reply = true): Buffer =>
  Buffer.concat([Buffer.from(reply ? 'b' : 'q'), name(g), u32(except), Buffer.from(msg)]);

const ISOLATIONS = [{ isolation: 'inline' as const }, { isolation: 'worker' as const }];

describe.each(ISOLATIONS)('groups, $isolation isolation', ({ isolation }) => {
  let tb: TestBroker | undefined;
  const { connect } = useClients(() => tb);
  /** Connects `n` clients and joins each to `group`, waiting for every join's answer. */
  const members = async (n: number, group: string): Promise<TestClient[]> => {
    const cs = await Promise.all(Array.from({ length: n }, () => connect()));
    for (const c of cs) c.send(join(group));
    for (const c of cs) expect((await c.readFrame())[0]).toBe(1);
    return cs;
  };

  it('sends one frame to every member and returns the number of deliveries', async () => {
    tb = await startBroker({ isolation, plugin: ROUTER });
    const ms = await members(5, 'room');
    const outsider = await connect();
    outsider.send(gsend('room', 'hello'));
    expect((await outsider.readFrame()).readUInt32LE()).toBe(5);
    for (const c of ms) expect((await c.readFrame()).toString()).toBe('hello');
    outsider.send(size('room'));
    expect((await outsider.readFrame()).readUInt32LE()).toBe(5);
  });

  it('leaves out the excepted channel (the sender, typically)', async () => {
    tb = await startBroker({ isolation, plugin: ROUTER });
    const [a, b, c] = await members(3, 'room');
    // Channel handles are allocated in order from 1: a is 1.
    a.send(gsend('room', 'from-a', 1));
    expect((await a.readFrame()).readUInt32LE()).toBe(2);
    expect((await b.readFrame()).toString()).toBe('from-a');
    expect((await c.readFrame()).toString()).toBe('from-a');
    a.send('echo');
    expect((await a.readFrame()).toString()).toBe('echo'); // and no group frame before it
  });

  it("keeps a member's group frames in order with the frames sent to it alone", async () => {
    tb = await startBroker({ isolation, plugin: ROUTER });
    const [a] = await members(1, 'room');
    // One read chunk: group send, then the count reply to the same channel, then another group send.
    a.write(Buffer.concat([gsend('room', 'g1'), gsend('room', 'g2')].map((b) => Buffer.concat([Buffer.from(`${b.length}\n`), b]))));
    const got = await a.waitFrames(5); // 1 join answer + g1, count, g2, count
    expect(got.slice(1).map((f) => (f.length === 4 ? `#${f.readUInt32LE()}` : f.toString()))).toEqual(['g1', '#1', 'g2', '#1']);
  });

  it('batches consecutive group sends into one write per member', async () => {
    tb = await startBroker({ isolation, plugin: ROUTER });
    const ms = await members(20, 'room');
    const pub = await connect();
    const burst = Array.from({ length: 50 }, (_, i) => gsend('room', `m${i}`, 0, false));
    pub.write(Buffer.concat(burst.map((b) => Buffer.concat([Buffer.from(`${b.length}\n`), b]))));
    for (const c of ms) {
      c.raw = [];
      const frames = await c.waitFrames(51); // join answer + 50
      expect(frames.slice(1).map(String)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    }
    // The 50 frames left in few writes (one per read chunk of the publisher), not 50.
    expect(ms[0].raw.length).toBeLessThan(10);
  });

  it('removes a closed channel from its groups before handle-broken', async () => {
    tb = await startBroker({ isolation, plugin: ROUTER });
    const [a, b] = await members(2, 'room');
    a.send(join('other'));
    expect((await a.readFrame())[0]).toBe(1);
    a.close();
    await a.waitClosed();
    // The broker sees the close asynchronously: ask until the size drops.
    const roomSize = async (): Promise<number> => {
      b.send(size('room'));
      return (await b.readFrame()).readUInt32LE();
    };
    await waitFor(async () => (await roomSize()) === 1, "the closed member to leave 'room'");
    b.send(size('other'));
    expect((await b.readFrame()).readUInt32LE()).toBe(0);
    b.send(gsend('room', 'still', 0));
    expect((await b.readFrame()).toString()).toBe('still');
    expect((await b.readFrame()).readUInt32LE()).toBe(1);
  });

  it('leave removes one membership; join is idempotent; bad names are refused', async () => {
    tb = await startBroker({ isolation, plugin: ROUTER });
    const [a] = await members(1, 'room');
    a.send(join('room'));
    expect((await a.readFrame())[0]).toBe(1);
    a.send(size('room'));
    expect((await a.readFrame()).readUInt32LE()).toBe(1);
    a.send(leave('room'));
    expect((await a.readFrame())[0]).toBe(1);
    a.send(leave('room'));
    expect((await a.readFrame())[0]).toBe(0);
    a.send(join(''));
    expect((await a.readFrame())[0]).toBe(0);
    a.send(Buffer.concat([Buffer.from('j'), Buffer.of(255), Buffer.alloc(255, 'x')]));
    expect((await a.readFrame())[0]).toBe(1); // 255 bytes: allowed
  });

  it("keeps memberships through a trap: the fresh instance (and a worker's rebuilt mirror) sees them", async () => {
    tb = await startBroker({ isolation, plugin: ROUTER });
    const [a, b] = await members(2, 'room');
    const victim = await connect();
    victim.send('!');
    await victim.waitClosed();
    a.send(size('room'));
    expect((await a.readFrame()).readUInt32LE()).toBe(2);
    a.send(gsend('room', 'after', 1)); // a is channel 1
    expect((await a.readFrame()).readUInt32LE()).toBe(1);
    expect((await b.readFrame()).toString()).toBe('after');
    b.send(leave('room'));
    expect((await b.readFrame())[0]).toBe(1);
    a.send(size('room'));
    expect((await a.readFrame()).readUInt32LE()).toBe(1);
  });

  it("keeps memberships through a hot swap by replay: the new instance (and a worker's mirror) sees them", async () => {
    tb = await startBroker({ isolation, plugin: ROUTER });
    const [a, b] = await members(2, 'room');
    expect(await tb.broker.reloadPlugin(ROUTER)).toBe('replay');
    a.send(size('room'));
    expect((await a.readFrame()).readUInt32LE()).toBe(2);
    a.send(gsend('room', 'swapped', 1)); // a is channel 1
    expect((await a.readFrame()).readUInt32LE()).toBe(1);
    expect((await b.readFrame()).toString()).toBe('swapped');
  });

  it('returns 0 for a group without members', async () => {
    tb = await startBroker({ isolation, plugin: ROUTER });
    const [a] = await members(1, 'room');
    a.send(gsend('nobody', 'x'));
    expect((await a.readFrame()).readUInt32LE()).toBe(0);
  });

  it('closes a member that does not read (slow-consumer) without hurting the others', async () => {
    tb = await startBroker({ isolation, plugin: ROUTER, maxFrameBytes: 16 * 1024, maxOutboundBytes: 512 * 1024 });
    const [slow, fast] = await members(2, 'room');
    slow.socket.pause();
    const pub = await connect();
    const body = 'z'.repeat(2000);
    const count = 4000; // 8 MB: more than the loopback socket buffers of the paused reader hold
    const one = gsend('room', body, 0, false);
    const framed = Buffer.concat([Buffer.from(`${one.length}\n`), one]);
    for (let i = 0; i < count; i += 100) pub.write(Buffer.concat(Array.from({ length: 100 }, () => framed)));
    await fast.waitFrames(1 + count, 20_000);
    await waitFor(() => tb!.broker.stats().closed['slow-consumer'] === 1, 'the slow member closed');
    pub.send(size('room'));
    expect((await pub.readFrame()).readUInt32LE()).toBe(1);
  });
});
