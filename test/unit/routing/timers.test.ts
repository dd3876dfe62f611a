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
