/**
 * The `upstreams` interface over real TCP: the `upstream` fixture (test/fixtures/plugins/upstream.wat)
 * opens channels to logical services whose nodes are test servers (test/helpers/upstream-node.ts).
 * Covers each policy, refusal and drop (ejection, next open elsewhere), recovery after the backoff,
 * server pushes, and that a plugin never needs an address; each case inline and under worker isolation.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BrokerOptions } from '../../host/config.js';
import { CLOSE_REASONS } from '../../host/plugin/world.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connectClient, type TestClient } from '../helpers/client.js';
import { fixture } from '../helpers/paths.js';
import { startNodes, UpstreamNode } from '../helpers/upstream-node.js';
import { waitFor } from '../helpers/wait.js';

const UPSTREAM = fixture('upstream');

const open = (service: string, key = ''): Buffer =>
  Buffer.concat([Buffer.from('o'), Buffer.of(Buffer.byteLength(service)), Buffer.from(service), Buffer.from(key)]);
const sendTo = (ch: number, data: string): Buffer => {
  const b = Buffer.alloc(5 + Buffer.byteLength(data));
  b.write('s', 0);
  b.writeUInt32LE(ch, 1);
  b.write(data, 5);
  return b;
};
const closeCh = (ch: number): Buffer => {
  const b = Buffer.alloc(5);
  b.write('c', 0);
  b.writeUInt32LE(ch, 1);
  return b;
};

const ISOLATIONS = [{ isolation: 'inline' as const }, { isolation: 'worker' as const }];

describe.each(ISOLATIONS)('upstreams, $isolation isolation', ({ isolation }) => {
  let tb: TestBroker | undefined;
  const clients: TestClient[] = [];
  let nodes: UpstreamNode[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await tb?.stop();
    tb = undefined;
    await Promise.all(nodes.map((n) => n.stop()));
    nodes = [];
  });
  const start = async (n: number, policy: string, extra: Partial<BrokerOptions> = {}): Promise<TestClient> => {
    nodes = await startNodes(n);
    const spec = nodes.map((x) => `127.0.0.1:${x.port}`).join(',') + `/${policy}`;
    tb = await startBroker({ isolation, plugin: UPSTREAM, upstream: { logic: spec }, ...extra });
    const c = await connectClient(tb.port);
    clients.push(c);
    return c;
  };
  /** Opens a channel to `logic` and returns its handle (0: none). */
  const openCh = async (c: TestClient, key = ''): Promise<number> => {
    c.send(open('logic', key));
    return (await c.readFrame()).readUInt32LE();
  };
  /** Sends `data` on upstream `ch` and returns the node's answer ("n1:data"). */
  const ask = async (c: TestClient, ch: number, data: string): Promise<string> => {
    c.send(sendTo(ch, data));
    expect((await c.readFrame())[0]).toBe(1);
    return (await c.readFrame()).toString();
  };
  const nodeOf = async (c: TestClient, ch: number): Promise<string> => (await ask(c, ch, 'who')).split(':')[0];
  /**
   * The node a new channel for `key` answers from. An open whose channel ends before it answers is
   * retried: on a loaded machine the dead node's first ejection (≈ 100 ms) can expire in the middle
   * of a loop, and the broker then tries it again (refused: the channel ends, the node is ejected for
   * longer). Acknowledgements (one byte) are skipped.
   */
  let endedOpens = 0;
  const nodeForKey = async (c: TestClient, key = ''): Promise<string> => {
    for (let attempt = 0; attempt < 8; attempt++) {
      const ch = await openCh(c, key);
      c.send(sendTo(ch, 'who'));
      // One acknowledgement for the send always comes; the answer or the channel's end in any order around it.
      let acked = false;
      let answer: string | null = null;
      let ended = false;
      while (!acked || (answer === null && !ended)) {
        const f = await c.readFrame();
        if (f.length === 1) acked = true;
        else if (f.length === 6 && f[0] === 0x42 && f.readUInt32LE(1) === ch) ended = true;
        else answer = f.toString().split(':')[0];
      }
      if (answer !== null) return answer;
      endedOpens++;
    }
    throw new Error(`no node answered for key '${key}' in 8 opens`);
  };
  /** Reads the "B" ch reason frame of an upstream channel's end. */
  const broken = async (c: TestClient): Promise<{ ch: number; reason: string }> => {
    const f = await c.readFrame();
    expect(f[0]).toBe(0x42);
    return { ch: f.readUInt32LE(1), reason: CLOSE_REASONS[f[5]] };
  };

  it('round-robin spreads channels over the nodes; frames and replies flow both ways', async () => {
    const c = await start(2, 'round-robin');
    const chs = [await openCh(c), await openCh(c), await openCh(c), await openCh(c)];
    expect(chs.every((ch) => ch > 0)).toBe(true);
    const owners = [];
    for (const ch of chs) owners.push(await nodeOf(c, ch));
    expect(owners).toEqual(['n1', 'n2', 'n1', 'n2']);
    expect(await ask(c, chs[0], 'hello')).toBe('n1:hello');
  });

  it('queues frames sent before the node accepted the connection', async () => {
    const c = await start(1, 'round-robin');
    // One read chunk: open, then a frame on the new handle (handles are handed out in order, inline
    // and from a worker's reserve: the one after the first open's) before the broker did any I/O for it.
    const first = await openCh(c);
    const frames = [open('logic'), sendTo(first + 1, 'early')].map((b) => Buffer.concat([Buffer.from(`${b.length}\n`), b]));
    c.write(Buffer.concat(frames));
    expect((await c.readFrame()).readUInt32LE()).toBe(first + 1);
    expect((await c.readFrame())[0]).toBe(1);
    expect((await c.readFrame()).toString()).toBe('n1:early');
  });

  it('least-connections sends a new channel to the node with the fewest open channels', async () => {
    const c = await start(2, 'least-connections');
    const a = await openCh(c);
    const b = await openCh(c);
    expect([await nodeOf(c, a), await nodeOf(c, b)]).toEqual(['n1', 'n2']);
    const b2 = await openCh(c);
    expect(await nodeOf(c, b2)).toBe('n1');
    c.send(closeCh(a));
    expect(await broken(c)).toEqual({ ch: a, reason: 'closed-by-plugin' });
    // n1: 1 (b2), n2: 1 (b) → tie, then n1: 1 vs n2: 2 after the next.
    const d = await openCh(c);
    const e = await openCh(c);
    expect([await nodeOf(c, d), await nodeOf(c, e)].sort()).toEqual(['n1', 'n2']);
  });

  it("consistent-hash keeps a key on one node, spreads keys, and moves only a failed node's keys", async () => {
    const c = await start(3, 'consistent-hash');
    const keys = Array.from({ length: 24 }, (_, i) => `player-${i}`);
    const first = new Map<string, string>();
    let onN2 = 0;
    for (const k of keys) {
      first.set(k, await nodeOf(c, await openCh(c, k)));
      if (first.get(k) === 'n2') onN2++;
    }
    for (const k of keys.slice(0, 6)) {
      expect(await nodeOf(c, await openCh(c, k))).toBe(first.get(k));
      if (first.get(k) === 'n2') onN2++;
    }
    expect(new Set(first.values()).size).toBe(3);
    // n2 crashes: its channels end (peer-closed), it is ejected, its keys move, the others stay.
    await nodes[1].stop();
    for (let i = 0; i < onN2; i++) expect((await broken(c)).reason).toBe('peer-closed');
    for (const k of keys) {
      const now = await nodeForKey(c, k);
      if (first.get(k) === 'n2') expect(now).not.toBe('n2');
      else expect(now).toBe(first.get(k));
    }
  });

  it('ejects a node that refuses connections: the channel ends, the next opens go elsewhere, and it comes back after the backoff', async () => {
    const c = await start(2, 'round-robin');
    const dead = nodes[1];
    await dead.stop();
    const a = await openCh(c); // n1
    const b = await openCh(c); // n2: refused
    expect(await broken(c)).toEqual({ ch: b, reason: 'peer-closed' });
    expect(tb!.logs.some((l) => l.msg === 'upstream node refused a connection: ejected')).toBe(true);
    endedOpens = 0;
    for (let i = 0; i < 4; i++) expect(await nodeForKey(c)).toBe('n1');
    // Ejected: at most a retry or two once a (doubling) backoff expires; without ejection round-robin
    // would hand every other open to the dead node (≥ 4 ended opens).
    expect(endedOpens).toBeLessThanOrEqual(2);
    expect(await nodeOf(c, a)).toBe('n1');
    // Recovery: the node listens again; once its ejection (≤ 100 ms for a first failure) is over,
    // round-robin reaches it again.
    await dead.listen();
    await waitFor(async () => (await nodeOf(c, await openCh(c))) === 'n2', 'a new channel on n2 again');
  });

  it('a node that drops its connections: every channel on it ends (peer-closed) and new ones go to the survivor', async () => {
    const c = await start(2, 'round-robin');
    const chs = [await openCh(c), await openCh(c), await openCh(c), await openCh(c)];
    const onN2 = [chs[1], chs[3]];
    for (const ch of chs) await nodeOf(c, ch);
    const droppedAt = Date.now();
    nodes[1].dropAll();
    const ended = [await broken(c), await broken(c)];
    expect(ended.map((b) => b.ch).sort()).toEqual(onN2.sort());
    expect(ended.every((b) => b.reason === 'peer-closed')).toBe(true);
    // n2 still listens: only its ejection keeps new channels off it. The first ejection lasts at least
    // 50 ms (100 ms with jitter in [½, 1]); on a loaded machine it may be over before the loop ends,
    // so an answer from n2 is only wrong before that.
    for (let i = 0; i < 3; i++) {
      const owner = await nodeOf(c, await openCh(c));
      if (owner !== 'n1') expect(Date.now() - droppedAt).toBeGreaterThanOrEqual(50);
    }
    expect(await ask(c, chs[0], 'still')).toBe('n1:still');
  });

  it('delivers frames a node pushes on its own', async () => {
    const c = await start(1, 'round-robin');
    const ch = await openCh(c);
    await nodeOf(c, ch);
    nodes[0].push('breaking news');
    expect((await c.readFrame()).toString()).toBe('breaking news');
  });

  it('returns 0 for an unknown service and when every node is ejected', async () => {
    const c = await start(1, 'round-robin');
    c.send(open('nope'));
    expect((await c.readFrame()).readUInt32LE()).toBe(0);
    await nodes[0].stop();
    const ch = await openCh(c);
    expect(await broken(c)).toEqual({ ch, reason: 'peer-closed' });
    if (isolation === 'inline') expect(await openCh(c)).toBe(0);
    else {
      // The worker hands out a reserved handle before the I/O thread sees the node ejected: the
      // open then ends like a dropped connection (README, Isolation).
      const late = await openCh(c);
      expect(late).not.toBe(0);
      expect(await broken(c)).toEqual({ ch: late, reason: 'peer-closed' });
    }
  });

  it('applies the frame size limit to frames from a node (protocol-error, node ejected)', async () => {
    const c = await start(1, 'round-robin', { maxFrameBytes: 1024 });
    const ch = await openCh(c);
    await nodeOf(c, ch);
    nodes[0].push('x'.repeat(2000));
    expect(await broken(c)).toEqual({ ch, reason: 'protocol-error' });
  });

  it('closes upstream channels when the broker stops', async () => {
    const c = await start(2, 'round-robin');
    const a = await openCh(c);
    const b = await openCh(c);
    await nodeOf(c, a);
    await nodeOf(c, b);
    expect(nodes[0].connections + nodes[1].connections).toBe(2);
    await tb!.stop();
    await waitFor(() => nodes[0].connections + nodes[1].connections === 0, 'both upstream channels closed');
    expect(tb!.broker.stats().closed.shutdown).toBe(3); // the client and both upstream channels
  });

  it("keeps the running plugin's upstream channels through a refused reload, and closes them on a swap", async () => {
    const c = await start(1, 'round-robin');
    const ch = await openCh(c);
    await nodeOf(c, ch);
    await expect(tb!.broker.reloadPlugin(fixture('refuse-start'))).rejects.toMatchObject({ code: 'PB_ERR_PLUGIN_START_FAILED' });
    expect(await ask(c, ch, 'still')).toBe('n1:still');
    await tb!.broker.reloadPlugin(UPSTREAM);
    // The new instance never knew that channel: it is closed (no handle-broken to anyone).
    await waitFor(() => nodes[0].connections === 0, "the old instance's upstream channel closed");
    const again = await openCh(c);
    expect(await ask(c, again, 'swapped')).toBe('n1:swapped');
  });

  it('closes upstream channels of an instance that trapped, without replaying them to the fresh one', async () => {
    const c = await start(1, 'round-robin');
    const ch = await openCh(c);
    await nodeOf(c, ch);
    const victim = await connectClient(tb!.port);
    clients.push(victim);
    victim.send('!');
    await victim.waitClosed();
    await waitFor(() => nodes[0].connections === 0, "the old instance's upstream channel closed");
    // The fresh instance opens its own.
    const again = await openCh(c);
    expect(again).toBeGreaterThan(ch);
    expect(await ask(c, again, 'after')).toBe('n1:after');
  });
});
