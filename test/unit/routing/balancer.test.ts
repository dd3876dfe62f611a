import { describe, expect, it } from 'vitest';
import { Balancer, type UpstreamNode } from '../../../host/routing/balancer.js';

const nodes = (n: number): UpstreamNode[] => Array.from({ length: n }, (_, i) => ({ host: '127.0.0.1', port: 7001 + i }));

describe('Balancer', () => {
  it('round-robin cycles through the nodes', () => {
    const b = new Balancer(nodes(3), 'round-robin');
    expect(Array.from({ length: 6 }, () => b.pick('', 0))).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('round-robin skips an ejected node until its ejection ends, then tries it again', () => {
    const b = new Balancer(nodes(3), 'round-robin', { ejectBaseMs: 100, random: () => 1 });
    expect(b.failed(1, 0)).toBe(100);
    expect(Array.from({ length: 4 }, () => b.pick('', 50))).toEqual([0, 2, 0, 2]);
    expect(b.isEjected(1, 99)).toBe(true);
    expect(b.isEjected(1, 100)).toBe(false);
    expect([b.pick('', 100), b.pick('', 100), b.pick('', 100)]).toEqual([0, 1, 2]);
  });

  it('returns -1 when every node is ejected', () => {
    const b = new Balancer(nodes(2), 'least-connections');
    b.failed(0, 0);
    b.failed(1, 0);
    expect(b.pick('', 10)).toBe(-1);
  });

  it('doubles the ejection per consecutive failure, with jitter in [1/2, 1], capped', () => {
    let r = 0;
    const b = new Balancer(nodes(1), 'round-robin', { ejectBaseMs: 100, ejectMaxMs: 1000, random: () => r });
    const lengths: number[] = [];
    let now = 0;
    for (let i = 0; i < 6; i++) {
      const ms = b.failed(0, now);
      lengths.push(ms);
      now += ms;
    }
    expect(lengths).toEqual([50, 100, 200, 400, 500, 500]);
    r = 0.999;
    expect(b.failed(0, now)).toBe(1000);
    b.connected(0);
    expect(b.failed(0, now + 10_000)).toBeLessThanOrEqual(100);
  });

  it('does not lengthen an ejection for failures during it (one outage, many channels)', () => {
    const b = new Balancer(nodes(1), 'round-robin', { ejectBaseMs: 100, random: () => 1 });
    expect(b.failed(0, 0)).toBe(100);
    expect(b.failed(0, 10)).toBe(0);
    expect(b.failed(0, 100)).toBe(200);
  });

  it('least-connections picks the node with the fewest open channels', () => {
    const b = new Balancer(nodes(3), 'least-connections');
    const counts = [0, 0, 0];
    for (let i = 0; i < 30; i++) {
      const n = b.pick('', 0);
      b.opened(n);
      counts[n]++;
    }
    expect(counts).toEqual([10, 10, 10]);
    for (let i = 0; i < 5; i++) b.closed(2);
    for (let i = 0; i < 5; i++) {
      const n = b.pick('', 0);
      expect(n).toBe(2);
      b.opened(n);
    }
  });

  it('consistent-hash keeps a key on its node and moves only the keys of an ejected node', () => {
    const b = new Balancer(nodes(3), 'consistent-hash');
    const keys = Array.from({ length: 3000 }, (_, i) => `user-${i}`);
    const before = keys.map((k) => b.pick(k, 0));
    expect(keys.map((k) => b.pick(k, 0))).toEqual(before);
    const share = [0, 1, 2].map((n) => before.filter((x) => x === n).length / keys.length);
    for (const s of share) expect(s).toBeGreaterThan(0.25);
    b.failed(1, 0);
    const after = keys.map((k) => b.pick(k, 1));
    keys.forEach((_, i) => {
      if (before[i] !== 1) expect(after[i]).toBe(before[i]);
      else expect(after[i]).not.toBe(1);
    });
  });

  it('consistent-hash with an empty key falls back to round-robin', () => {
    const b = new Balancer(nodes(2), 'consistent-hash');
    expect([b.pick('', 0), b.pick('', 0), b.pick('', 0)]).toEqual([0, 1, 0]);
  });
});
