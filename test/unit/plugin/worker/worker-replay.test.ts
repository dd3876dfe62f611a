import { describe, expect, it } from 'vitest';
import { decodeCalls, planReplay, type Call } from '../../../../host/plugin/worker/worker-replay.js';
import {
  CALL_ADOPT,
  CALL_BROKEN,
  CALL_CONNECT,
  CALL_MSG,
  CALL_SNAPSHOT,
  CALL_STOP,
  CALL_TIMER,
  RecordWriter,
  decodePeer,
  encodePeer,
} from '../../../../host/plugin/worker/worker-protocol.js';
import type { PeerInfo } from '../../../../host/plugin/world.js';

const peer = (port: number): PeerInfo => ({ address: '10.0.0.1', port, transport: 'tcp', secure: false, resumed: false });
const connect = (ch: number): Call => ({ kind: CALL_CONNECT, channel: ch, body: encodePeer(peer(ch)) });
const msg = (ch: number, text: string): Call => ({ kind: CALL_MSG, channel: ch, body: Buffer.from(text) });
const broken = (ch: number, reason = 0): Call => ({ kind: CALL_BROKEN, channel: ch, body: Buffer.of(reason) });
const NAMES: Record<number, string> = {
  [CALL_CONNECT]: 'connect',
  [CALL_MSG]: 'msg',
  [CALL_BROKEN]: 'broken',
  [CALL_STOP]: 'stop',
  [CALL_SNAPSHOT]: 'snapshot',
};

/** The plan as readable lines: "connect 3 resumed", "msg 3 hello", "broken 3". */
function lines(plan: RecordWriter): string[] {
  return decodeCalls(plan.take()).map((c) => {
    const name = NAMES[c.kind] ?? String(c.kind);
    if (c.kind === CALL_CONNECT) return `${name} ${c.channel}${decodePeer(c.body).resumed ? ' resumed' : ''}`;
    if (c.kind === CALL_MSG) return `${name} ${c.channel} ${c.body.toString()}`;
    return `${name} ${c.channel}`.trimEnd();
  });
}

const live = (...chs: number[]): Map<number, PeerInfo> => new Map(chs.map((ch) => [ch, { ...peer(ch), resumed: true }]));

describe('planReplay (what a fresh worker instance is told after a failure)', () => {
  it('introduces the open channels the dead instance knew as resumed connects, then replays what it did not run, in order', () => {
    const known = new Map([
      [1, peer(1)],
      [2, peer(2)],
    ]);
    const plan = planReplay([msg(2, 'b1'), msg(1, 'a1'), msg(2, 'b2')], known, live(1, 2), true);
    expect(lines(plan)).toEqual(['connect 1 resumed', 'connect 2 resumed', 'msg 2 b1', 'msg 1 a1', 'msg 2 b2']);
  });

  it('leaves out the failed channel and every channel no longer open, and forgets them', () => {
    const known = new Map([
      [1, peer(1)],
      [2, peer(2)],
    ]);
    // Channel 2 failed (closed plugin-failed): not live any more.
    const plan = planReplay([msg(2, 'lost'), msg(1, 'kept')], known, live(1), true);
    expect(lines(plan)).toEqual(['connect 1 resumed', 'msg 1 kept']);
    expect([...known.keys()]).toEqual([1]);
  });

  it('does not introduce a channel twice when its own connect had not run', () => {
    const known = new Map([[3, peer(3)]]);
    const plan = planReplay([connect(3), msg(3, 'x')], known, live(3), true);
    expect(lines(plan)).toEqual(['connect 3', 'msg 3 x']);
  });

  it('replays a connect that had not run with its handle-broken when the channel ended meanwhile', () => {
    const plan = planReplay([connect(4), msg(4, 'x'), broken(4)], new Map([[4, peer(4)]]), live(), true);
    expect(lines(plan)).toEqual(['connect 4', 'msg 4 x', 'broken 4']);
  });

  it('drops a connect that had not run, and its frames, for a channel closed without handle-broken (policy close)', () => {
    const known = new Map([
      [5, peer(5)],
      [6, peer(6)],
    ]);
    const plan = planReplay([msg(5, 'old'), connect(6), msg(6, 'new')], known, live(), false);
    expect(lines(plan)).toEqual([]);
    expect(known.size).toBe(0);
  });

  it('under policy close introduces nobody, and replays only channels connected after the failure', () => {
    const known = new Map([
      [1, peer(1)],
      [7, peer(7)],
    ]);
    const plan = planReplay([msg(1, 'dropped'), connect(7), msg(7, 'y')], known, live(1, 7), false);
    expect(lines(plan)).toEqual(['connect 7', 'msg 7 y']);
  });

  it('drops what follows a handle-broken of a channel', () => {
    const known = new Map([[1, peer(1)]]);
    const plan = planReplay([broken(1), msg(1, 'late')], known, live(1), true);
    expect(lines(plan)).toEqual(['connect 1 resumed', 'broken 1']);
  });

  it('keeps stop and snapshot, drops timer firings of the dead instance, and keeps adopted channels', () => {
    const timer: Call = { kind: CALL_TIMER, channel: 0, body: Buffer.alloc(12) };
    const adopt: Call = { kind: CALL_ADOPT, channel: 8, body: Buffer.alloc(0) };
    const plan = planReplay(
      [timer, adopt, msg(8, 'z'), { kind: CALL_SNAPSHOT, channel: 0, body: Buffer.alloc(0) }, { kind: CALL_STOP, channel: 0, body: Buffer.alloc(0) }],
      new Map(),
      live(8),
      true,
    );
    expect(lines(plan)).toEqual([String(CALL_ADOPT) + ' 8', 'msg 8 z', 'snapshot 0', 'stop 0']);
  });

  it('round-trips a batch through decodeCalls with bodies copied out', () => {
    const w = new RecordWriter();
    w.push(CALL_MSG, 9, Buffer.from('abc'));
    const bytes = w.take();
    const [call] = decodeCalls(bytes);
    bytes.fill(0);
    expect(call).toEqual({ kind: CALL_MSG, channel: 9, body: Buffer.from('abc') });
  });
});
