import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TimerTable } from '../../../host/routing/timers.js';

describe('TimerTable', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('fires a one-shot timer once, after its delay, and forgets it', () => {
    const fired: bigint[] = [];
    const t = new TimerTable((tok) => fired.push(tok));
    expect(t.set(7n, 100, false)).toBe(true);
    vi.advanceTimersByTime(99);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([7n]);
    expect(t.size).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(fired).toEqual([7n]);
    expect(t.cancel(7n)).toBe(false);
  });

  it('fires a repeating timer every interval until cancelled', () => {
    const fired: bigint[] = [];
    const t = new TimerTable((tok) => fired.push(tok));
    t.set(1n, 10, true);
    vi.advanceTimersByTime(35);
    expect(fired).toEqual([1n, 1n, 1n]);
    expect(t.cancel(1n)).toBe(true);
    vi.advanceTimersByTime(100);
    expect(fired).toHaveLength(3);
  });

  it('re-arms a token that is armed instead of adding a second timer', () => {
    const fired: bigint[] = [];
    const t = new TimerTable((tok) => fired.push(tok));
    t.set(5n, 10, false);
    vi.advanceTimersByTime(5);
    t.set(5n, 10, false);
    vi.advanceTimersByTime(9);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([5n]);
  });

  it('keeps many named timers apart, including full 64-bit tokens', () => {
    const fired: bigint[] = [];
    const t = new TimerTable((tok) => fired.push(tok));
    const big = (1n << 64n) - 1n;
    t.set(big, 30, false);
    for (let i = 0n; i < 1000n; i++) t.set(i, Number(i % 20n) + 1, false);
    expect(t.size).toBe(1001);
    vi.advanceTimersByTime(30);
    expect(fired).toHaveLength(1001);
    expect(fired.at(-1)).toBe(big);
  });

  it('refuses a new token past the cap but still re-arms an armed one', () => {
    const t = new TimerTable(() => {}, 2);
    expect(t.set(1n, 10, false)).toBe(true);
    expect(t.set(2n, 10, false)).toBe(true);
    expect(t.set(3n, 10, false)).toBe(false);
    expect(t.set(2n, 20, true)).toBe(true);
  });

  it('clear disarms everything', () => {
    const fired: bigint[] = [];
    const t = new TimerTable((tok) => fired.push(tok));
    t.set(1n, 10, true);
    t.set(2n, 10, false);
    t.clear();
    vi.advanceTimersByTime(100);
    expect(fired).toEqual([]);
    expect(t.size).toBe(0);
  });
});

describe('TimerTable ordering and bookkeeping', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('fires in due order, ties in arming order', () => {
    const fired: bigint[] = [];
    const t = new TimerTable((tok) => fired.push(tok));
    const delays = [50, 10, 30, 10, 20, 50, 1];
    delays.forEach((d, i) => t.set(BigInt(i), d, false));
    vi.advanceTimersByTime(60);
    expect(fired).toEqual([6n, 1n, 3n, 4n, 2n, 0n, 5n]);
  });

  it('lets a handler arm and cancel timers while timers fire', () => {
    const fired: bigint[] = [];
    const t = new TimerTable((tok) => {
      fired.push(tok);
      if (tok === 1n) {
        t.set(10n, 5, false);
        t.cancel(2n);
      }
    });
    t.set(1n, 10, false);
    t.set(2n, 10, false);
    vi.advanceTimersByTime(20);
    expect(fired).toEqual([1n, 10n]);
    expect(t.size).toBe(0);
  });

  it('stays correct through many re-arms and cancels (compaction)', () => {
    const fired: bigint[] = [];
    const t = new TimerTable((tok) => fired.push(tok));
    for (let round = 0; round < 50; round++) for (let i = 0n; i < 20n; i++) t.set(i, 100 + round, false);
    for (let i = 0n; i < 10n; i++) t.cancel(i);
    expect(t.size).toBe(10);
    vi.advanceTimersByTime(200);
    expect(fired.sort((a, b) => Number(a - b))).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(10 + i)));
  });

  it('skips the ticks a repeating timer missed instead of bunching them', () => {
    const fired: number[] = [];
    const t = new TimerTable(() => fired.push(Date.now()));
    t.set(1n, 10, true);
    vi.advanceTimersByTime(10);
    vi.setSystemTime(Date.now() + 100); // the event loop was blocked for 100 ms
    vi.advanceTimersByTime(25);
    expect(fired.length).toBeLessThanOrEqual(4);
    t.clear();
  });
});
