import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PLUGIN_START_BUDGET_FACTOR } from '../../../../host/limits.js';
import { CallWatchdog } from '../../../../host/plugin/worker/call-watchdog.js';
import { CALL_MSG, CALL_START, CTL_CHANNEL, CTL_IN_CALL, CTL_KIND, CTL_SEQ, CTL_SLOTS } from '../../../../host/plugin/worker/worker-protocol.js';

const BUDGET_MS = 100;

/** A watchdog over a fresh control buffer, and a fake worker that enters and leaves calls. */
function setup(): { ctl: Int32Array; dog: CallWatchdog; stuck: Array<[number, number, number]>; enter(kind: number, channel: number): void; leave(): void } {
  const ctl = new Int32Array(new SharedArrayBuffer(CTL_SLOTS * 4));
  const stuck: Array<[number, number, number]> = [];
  const dog = new CallWatchdog(ctl, BUDGET_MS, (kind, channel, budgetMs) => stuck.push([kind, channel, budgetMs]));
  dog.armed = true;
  dog.start();
  return {
    ctl,
    dog,
    stuck,
    // As the worker thread does (worker-thread.ts): kind and channel, bump the sequence, mark in-call.
    enter(kind, channel) {
      ctl[CTL_KIND] = kind;
      ctl[CTL_CHANNEL] = channel;
      Atomics.add(ctl, CTL_SEQ, 1);
      Atomics.store(ctl, CTL_IN_CALL, 1);
    },
    leave: () => Atomics.store(ctl, CTL_IN_CALL, 0),
  };
}

describe('CallWatchdog', () => {
  let dog: CallWatchdog | undefined;
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] }));
  afterEach(() => {
    dog?.stop();
    vi.useRealTimers();
  });

  it('reports a call whose counter has not moved for its budget, once, between 1 and 1.25 budgets in', () => {
    const s = setup();
    dog = s.dog;
    s.enter(CALL_MSG, 42);
    vi.advanceTimersByTime(BUDGET_MS - 1);
    expect(s.stuck).toEqual([]);
    vi.advanceTimersByTime(BUDGET_MS / 4 + 1);
    expect(s.stuck).toEqual([[CALL_MSG, 42, BUDGET_MS]]);
    vi.advanceTimersByTime(BUDGET_MS / 4);
    expect(s.stuck).toHaveLength(1);
  });

  it('never reports calls that keep returning, however long the batch', () => {
    const s = setup();
    dog = s.dog;
    for (let t = 0; t < 20 * BUDGET_MS; t += 10) {
      s.enter(CALL_MSG, 1);
      vi.advanceTimersByTime(10);
      s.leave();
    }
    expect(s.stuck).toEqual([]);
  });

  it('does not count time between calls, or while no worker is armed', () => {
    const s = setup();
    dog = s.dog;
    s.enter(CALL_MSG, 1);
    s.leave();
    vi.advanceTimersByTime(10 * BUDGET_MS);
    expect(s.stuck).toEqual([]);
    s.dog.armed = false;
    s.enter(CALL_MSG, 2);
    vi.advanceTimersByTime(10 * BUDGET_MS);
    expect(s.stuck).toEqual([]);
  });

  it('gives start (and snapshot, restore) ten budgets', () => {
    const s = setup();
    dog = s.dog;
    s.enter(CALL_START, 0);
    vi.advanceTimersByTime(PLUGIN_START_BUDGET_FACTOR * BUDGET_MS - BUDGET_MS);
    expect(s.stuck).toEqual([]);
    vi.advanceTimersByTime(2 * BUDGET_MS);
    expect(s.stuck).toEqual([[CALL_START, 0, PLUGIN_START_BUDGET_FACTOR * BUDGET_MS]]);
  });

  it('reads channel handles above 2^31 as unsigned', () => {
    const s = setup();
    dog = s.dog;
    s.enter(CALL_MSG, 0xffff_fff0 | 0);
    vi.advanceTimersByTime(2 * BUDGET_MS);
    expect(s.stuck[0][1]).toBe(0xffff_fff0);
  });
});
