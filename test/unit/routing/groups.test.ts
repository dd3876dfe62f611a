import { describe, expect, it } from 'vitest';
import { GroupIndex } from '../../../host/routing/groups.js';

describe('GroupIndex', () => {
  it('adds members to a group and reports its size', () => {
    const g = new GroupIndex();
    expect(g.join('room', 1)).toBe('joined');
    expect(g.join('room', 2)).toBe('joined');
    expect(g.size('room')).toBe(2);
    expect([...g.members('room')!]).toEqual([1, 2]);
  });

  it('treats a second join as a no-op', () => {
    const g = new GroupIndex();
    g.join('room', 1);
    expect(g.join('room', 1)).toBe('already-member');
    expect(g.size('room')).toBe(1);
  });

  it('removes an empty group', () => {
    const g = new GroupIndex();
    g.join('room', 1);
    expect(g.leave('room', 1)).toBe(true);
    expect(g.members('room')).toBeUndefined();
    expect(g.groupCount).toBe(0);
    expect(g.leave('room', 1)).toBe(false);
  });

  it('leaves every group of a channel at once and only those', () => {
    const g = new GroupIndex();
    for (let i = 0; i < 100; i++) g.join(`g${i}`, 7);
    g.join('g0', 8);
    expect(g.leaveAll(7)).toBe(100);
    expect(g.groupCount).toBe(1);
    expect([...g.members('g0')!]).toEqual([8]);
    expect(g.groupsOf(7).size).toBe(0);
    expect(g.leaveAll(7)).toBe(0);
  });

  it('refuses a join past the per-channel group cap', () => {
    const g = new GroupIndex(2);
    expect(g.join('a', 1)).toBe('joined');
    expect(g.join('b', 1)).toBe('joined');
    expect(g.join('c', 1)).toBe('too-many-groups');
    expect(g.join('a', 1)).toBe('already-member');
    expect(g.join('c', 2)).toBe('joined');
  });

  it('keeps the two directions consistent under random operations', () => {
    const g = new GroupIndex();
    const model = new Map<string, Set<number>>();
    let seed = 42;
    const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    for (let step = 0; step < 5000; step++) {
      const group = `g${rnd(20)}`;
      const ch = 1 + rnd(30);
      const op = rnd(10);
      if (op < 6) {
        g.join(group, ch);
        if (!model.has(group)) model.set(group, new Set());
        model.get(group)!.add(ch);
      } else if (op < 9) {
        expect(g.leave(group, ch)).toBe(model.get(group)?.delete(ch) ?? false);
        if (model.get(group)?.size === 0) model.delete(group);
      } else {
        g.leaveAll(ch);
        for (const [name, set] of model) if (set.delete(ch) && set.size === 0) model.delete(name);
      }
    }
    for (const [name, set] of model) expect(new Set(g.members(name))).toEqual(set);
    expect(g.groupCount).toBe(model.size);
  });
});
