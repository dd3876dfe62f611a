import { describe, expect, it } from 'vitest';
import type { GroupCount } from '../../../host/cluster/control-messages.js';
import { RemoteMembership, chunkGroupCounts } from '../../../host/cluster/remote-membership.js';

const presence = (node: string, seq: number, epoch = 1, intervalMs = 100) => ({ t: 'presence' as const, node, epoch, seq, intervalMs });
const members = (node: string, seq: number, groups: GroupCount[], epoch = 1) => ({ t: 'members' as const, node, epoch, seq, groups });
const snapshot = (node: string, seq: number, part: number, last: boolean, groups: GroupCount[], epoch = 1) => ({
  t: 'snapshot' as const,
  node,
  epoch,
  seq,
  part,
  last,
  groups,
});

describe('RemoteMembership', () => {
  it('applies numbered deltas from a node that started empty, and sums groups over nodes', () => {
    const changes: Array<[string, number]> = [];
    const m = new RemoteMembership('self', 100, (g, t) => changes.push([g, t]));
    expect(m.onPresence(presence('a', 0), 0)).toBe('ok');
    expect(m.onMembers(members('a', 1, [['room', 2]]), 1)).toBe('ok');
    expect(
      m.onMembers(
        members('b', 1, [
          ['room', 3],
          ['lobby', 1],
        ]),
        1,
      ),
    ).toBe('ok'); // unmet, first delta: started empty
    expect(m.total('room')).toBe(5);
    expect(m.total('lobby')).toBe(1);
    expect(m.onMembers(members('a', 2, [['room', 0]]), 2)).toBe('ok');
    expect(m.total('room')).toBe(3);
    expect(changes).toEqual([
      ['room', 2],
      ['room', 5],
      ['lobby', 1],
      ['room', 3],
    ]);
    expect(m.nodes().map((n) => [n.node, n.groups, n.members, n.synced])).toEqual([
      ['a', 0, 0, true],
      ['b', 2, 4, true],
    ]);
  });

  it('ignores duplicates and its own messages', () => {
    const m = new RemoteMembership('self', 100);
    m.onMembers(members('a', 1, [['g', 2]]), 0);
    expect(m.onMembers(members('a', 1, [['g', 9]]), 0)).toBe('ok');
    expect(m.total('g')).toBe(2);
    expect(m.onMembers(members('self', 1, [['g', 9]]), 0)).toBe('ok');
    expect(m.onPresence(presence('self', 4), 0)).toBe('ok');
    expect(m.total('g')).toBe(2);
    expect(m.nodeCount).toBe(1);
  });

  it('asks for a snapshot after a gap in the numbers, and takes the snapshot over its table', () => {
    const m = new RemoteMembership('self', 100);
    m.onMembers(
      members('a', 1, [
        ['old', 1],
        ['kept', 1],
      ]),
      0,
    );
    expect(m.onMembers(members('a', 3, [['new', 1]]), 10)).toBe('sync'); // 2 was lost
    expect(m.total('new')).toBe(0); // not applied out of order
    // Until the snapshot arrives, later deltas are covered by it, and requests are not repeated before an interval.
    expect(m.onMembers(members('a', 4, [['new', 2]]), 20)).toBe('ok');
    expect(m.syncsDue(50)).toEqual([]);
    expect(m.syncsDue(111)).toEqual(['a']);
    expect(m.onSnapshot(snapshot('a', 4, 0, false, [['kept', 3]]), 120)).toBe('ok');
    expect(m.total('kept')).toBe(1); // parts are staged until the last
    expect(m.onSnapshot(snapshot('a', 4, 1, true, [['new', 2]]), 121)).toBe('ok');
    expect([m.total('old'), m.total('kept'), m.total('new')]).toEqual([0, 3, 2]);
    expect(m.onMembers(members('a', 5, [['new', 0]]), 130)).toBe('ok');
    expect(m.total('new')).toBe(0);
  });

  it('asks again when a snapshot part goes missing', () => {
    const m = new RemoteMembership('self', 100);
    expect(m.onPresence(presence('a', 7), 0)).toBe('sync'); // met with announcements we never saw
    m.onSnapshot(snapshot('a', 7, 0, false, [['g', 1]]), 1);
    expect(m.onSnapshot(snapshot('a', 7, 2, true, [['h', 1]]), 2)).toBe('sync');
    expect(m.total('g')).toBe(0);
    m.onSnapshot(snapshot('a', 7, 0, true, [['g', 1]]), 3);
    expect(m.total('g')).toBe(1);
  });

  it('notices a lost last delta from the sequence number in the presence beat', () => {
    const m = new RemoteMembership('self', 100);
    m.onMembers(members('a', 1, [['g', 1]]), 0);
    expect(m.onPresence(presence('a', 1), 50)).toBe('ok');
    expect(m.onPresence(presence('a', 2), 150)).toBe('sync');
  });

  it('starts over when a node comes back with another epoch (a restart)', () => {
    const m = new RemoteMembership('self', 100);
    m.onMembers(members('a', 1, [['g', 4]]), 0);
    expect(m.onPresence(presence('a', 0, 2), 10)).toBe('ok');
    expect(m.total('g')).toBe(0);
    expect(m.nodes()[0].epoch).toBe(2);
  });

  it('drops a node silent for three of its intervals, and one that says bye', () => {
    const m = new RemoteMembership('self', 100);
    m.onPresence(presence('a', 0, 1, 100), 0);
    m.onMembers(members('a', 1, [['g', 1]]), 0);
    m.onPresence(presence('b', 0, 1, 1000), 0);
    m.onMembers(members('b', 1, [['g', 2]]), 0);
    expect(m.expire(300)).toEqual([]);
    expect(m.expire(301)).toEqual(['a']);
    expect(m.total('g')).toBe(2);
    expect(m.onBye({ t: 'bye', node: 'b', epoch: 9 })).toBe(false); // another incarnation's bye
    expect(m.onBye({ t: 'bye', node: 'b' })).toBe(true);
    expect(m.total('g')).toBe(0);
    expect(m.nodeCount).toBe(0);
  });

  it('ignores a snapshot nobody asked for', () => {
    const m = new RemoteMembership('self', 100);
    m.onMembers(members('a', 1, [['g', 1]]), 0);
    m.onSnapshot(snapshot('a', 1, 0, true, [['h', 5]]), 1);
    expect(m.total('h')).toBe(0);
    m.onSnapshot(snapshot('z', 1, 0, true, [['h', 5]]), 1);
    expect(m.total('h')).toBe(0);
  });
});

describe('chunkGroupCounts', () => {
  it('cuts entries into chunks under the size, at least one entry each', () => {
    const entries: GroupCount[] = Array.from({ length: 10 }, (_, i) => [`g${i}`, i]);
    const chunks = chunkGroupCounts(entries, 25, () => 10);
    expect(chunks.map((c) => c.length)).toEqual([2, 2, 2, 2, 2]);
    expect(chunks.flat()).toEqual(entries);
    expect(chunkGroupCounts(entries.slice(0, 2), 5, () => 10).map((c) => c.length)).toEqual([1, 1]);
    expect(chunkGroupCounts([], 5, () => 10)).toEqual([]);
  });
});
