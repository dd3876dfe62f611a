/**
 * NATS-backed upstreams (#12): `upstream: { logic: 'nats' }` makes `upstream-open("logic", key)` a
 * channel to one member of the NATS queue group `logic` (docs/cluster-services.md). A real
 * nats-server, the `upstream` fixture plugin, members written with examples/logic-server's
 * nats-member.ts (what a backend in any language implements). Frames both ways and the key, the
 * queue group spreading channels, close from either side, no member at all, a member that
 * vanishes, NATS going away. Both isolation modes.
 */
import { connect, RequestError } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serveNatsService, type MemberChannel, type NatsMember } from '../../examples/logic-server/nats-member.js';
import { CLOSE_REASONS } from '../../host/plugin/world.js';
import type { TestBroker } from '../helpers/broker.js';
import { connectClient, type TestClient } from '../helpers/client.js';
import { startNode, waitUntil } from '../helpers/cluster.js';
import { startNatsServer, type TestNatsServer } from '../helpers/nats-server.js';
import { fixture } from '../helpers/paths.js';

const UPSTREAM = fixture('upstream');
const ISOLATIONS = [{ isolation: 'inline' as const }, { isolation: 'worker' as const }];

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

/** A member that answers every frame with `<name>:<frame>` and records what it saw. */
async function echoMember(
  url: string,
  name: string,
): Promise<NatsMember & { keys: string[]; frames: string[]; state: { closedByBroker: number }; live: Set<MemberChannel> }> {
  const keys: string[] = [];
  const frames: string[] = [];
  const live = new Set<MemberChannel>();
  const state = { closedByBroker: 0 };
  const m = await serveNatsService(
    { servers: url, service: 'logic' },
    {
      onOpen(ch) {
        keys.push(ch.key);
        live.add(ch);
        return true;
      },
      onFrame(ch, body) {
        const text = Buffer.from(body).toString();
        frames.push(text);
        ch.send(`${name}:${text}`);
      },
      onClose(ch) {
        if (live.delete(ch)) state.closedByBroker++;
      },
    },
  );
  // (Object.assign would copy a getter's value once: the counter stays in `state`.)
  return Object.assign(m, { keys, frames, live, state });
}

/**
 * Resolves once the NATS server has dropped the subscription behind `subject` (a request there
 * comes back as "no responders"). A killed client's socket closes before the server has processed
 * it: until then a publish to its subject is still routed to it and lost without a 503.
 */
async function untilNobodyServes(url: string, subject: string): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    await waitUntil(
      () =>
        nc.request(subject, new Uint8Array(0), { timeout: 500 }).then(
          () => false,
          (err: unknown) => err instanceof RequestError && err.isNoResponders(),
        ),
      20_000,
      () => `NATS to drop the subscription of ${subject}`,
    );
  } finally {
    await nc.close();
  }
}

describe.each(ISOLATIONS)('NATS services, $isolation isolation', ({ isolation }) => {
  let nats: TestNatsServer;
  let node: TestBroker | undefined;
  let members: NatsMember[] = [];
  const clients: TestClient[] = [];
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await nats.stop();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await node?.stop();
    node = undefined;
    await Promise.all(members.map((m) => m.stop()));
    members = [];
    if (!nats.running) await nats.restart();
  });

  const start = async (): Promise<TestClient> => {
    node = await startNode(nats.url, 'a', { plugin: UPSTREAM, isolation, upstream: { logic: 'nats' } });
    await waitUntil(
      () => node!.broker.clusterStatus?.state === 'connected',
      10_000,
      () => 'the node to connect',
    );
    const c = await connectClient(node.port);
    clients.push(c);
    return c;
  };
  const openCh = async (c: TestClient, key = ''): Promise<number> => {
    c.send(open('logic', key));
    return (await c.readFrame()).readUInt32LE();
  };
  /** Sends on `ch`; returns the acknowledgement byte. */
  const send = async (c: TestClient, ch: number, data: string): Promise<number> => {
    c.send(sendTo(ch, data));
    return (await c.readFrame())[0];
  };
  const broken = async (c: TestClient, deadlineMs = 10_000): Promise<{ ch: number; reason: string }> => {
    const f = await c.readFrame(deadlineMs);
    expect(f[0]).toBe(0x42);
    return { ch: f.readUInt32LE(1), reason: CLOSE_REASONS[f[5]] };
  };

  it('opens a channel to a member: the key reaches it, frames flow both ways, in order', async () => {
    const m = await echoMember(nats.url, 'm1');
    members.push(m);
    const c = await start();
    const ch = await openCh(c, 'player-7');
    expect(ch).toBeGreaterThan(0);
    // Sent at once, before the member accepted: queued, then delivered in order. The plugin's
    // acknowledgements (one byte) and the member's answers interleave.
    for (let i = 0; i < 20; i++) c.send(sendTo(ch, `f${i}`));
    const acks: number[] = [];
    const answers: string[] = [];
    while (acks.length < 20 || answers.length < 20) {
      const f = await c.readFrame();
      if (f.length === 1) acks.push(f[0]);
      else answers.push(f.toString());
    }
    expect(acks).toEqual(Array(20).fill(1));
    expect(answers).toEqual(Array.from({ length: 20 }, (_, i) => `m1:f${i}`));
    expect(m.keys).toEqual(['player-7']);
    expect(m.frames).toEqual(Array.from({ length: 20 }, (_, i) => `f${i}`));
  });

  it('spreads channels over the members of the queue group', async () => {
    members.push(await echoMember(nats.url, 'm1'), await echoMember(nats.url, 'm2'));
    const c = await start();
    const seen = new Set<string>();
    for (let i = 0; i < 24 && seen.size < 2; i++) {
      const ch = await openCh(c);
      expect(await send(c, ch, 'who')).toBe(1);
      seen.add((await c.readFrame()).toString().split(':')[0]);
      c.send(closeCh(ch));
      expect(await broken(c)).toEqual({ ch, reason: 'closed-by-plugin' });
    }
    expect(seen).toEqual(new Set(['m1', 'm2']));
  });

  it('closes from either side: the plugin’s channel-close reaches the member, the member’s close ends the channel (peer-closed)', async () => {
    const m = await echoMember(nats.url, 'm1');
    members.push(m);
    const c = await start();
    const a = await openCh(c);
    expect(await send(c, a, 'x')).toBe(1);
    expect((await c.readFrame()).toString()).toBe('m1:x');
    c.send(closeCh(a));
    expect(await broken(c)).toEqual({ ch: a, reason: 'closed-by-plugin' });
    await waitUntil(
      () => m.state.closedByBroker === 1,
      10_000,
      () => 'the member to see the close',
    );
    const b = await openCh(c);
    expect(await send(c, b, 'y')).toBe(1);
    expect((await c.readFrame()).toString()).toBe('m1:y');
    [...m.live][0].close();
    expect(await broken(c)).toEqual({ ch: b, reason: 'peer-closed' });
  });

  it('ends a channel nobody serves with peer-closed (no responders) and ejects the service for a backoff', async () => {
    const c = await start();
    const ch = await openCh(c);
    expect(ch).toBeGreaterThan(0);
    expect(await broken(c)).toEqual({ ch, reason: 'peer-closed' });
    expect(node!.logs.some((l) => l.msg === 'upstream node refused a connection: ejected' && l.service === 'logic')).toBe(true);
  });

  it('ends the channel of a member that vanishes (peer-closed) at its next frame; the next open reaches a survivor', async () => {
    const m1 = await echoMember(nats.url, 'm1');
    members.push(m1);
    const c = await start();
    const ch = await openCh(c);
    expect(await send(c, ch, 'x')).toBe(1);
    expect((await c.readFrame()).toString()).toBe('m1:x');
    const m2 = await echoMember(nats.url, 'm2');
    members.push(m2);
    const [dead] = [...m1.live];
    await m1.kill(); // a crash: it says nothing to the broker
    // The broker finds out from NATS's no-responders answer to its next publish (a frame, or a
    // heartbeat) once the server has noticed the crash: wait for that, not for a clock.
    await untilNobodyServes(nats.url, dead.subject);
    expect(await send(c, ch, 'anyone?')).toBe(1);
    expect(await broken(c)).toEqual({ ch, reason: 'peer-closed' });
    const next = await openCh(c);
    expect(await send(c, next, 'again')).toBe(1);
    expect((await c.readFrame()).toString()).toBe('m2:again');
  });

  it('ends its NATS channels when NATS goes away, and opens new ones once it is back', async () => {
    members.push(await echoMember(nats.url, 'm1'));
    const c = await start();
    const ch = await openCh(c);
    expect(await send(c, ch, 'x')).toBe(1);
    expect((await c.readFrame()).toString()).toBe('m1:x');
    await nats.kill();
    expect(await broken(c)).toEqual({ ch, reason: 'peer-closed' });
    await nats.restart();
    await waitUntil(
      () => node!.broker.clusterStatus?.state === 'connected',
      15_000,
      () => 'the node to reconnect',
    );
    // The member reconnects by itself too (nats.js); opens may be refused until it has.
    await waitUntil(
      async () => {
        const next = await openCh(c);
        if (next === 0) return false;
        expect(await send(c, next, 'back')).toBe(1);
        const f = await c.readFrame(10_000);
        return f.toString() === 'm1:back';
      },
      20_000,
      () => 'a channel through the restarted NATS',
    );
  });
});
