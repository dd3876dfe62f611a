import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { FailurePolicy } from '../../../../host/config.js';
import { PluginTrapError } from '../../../../host/errors.js';
import { MAX_PLUGIN_RESTARTS_PER_WINDOW } from '../../../../host/limits.js';
import { FailurePolicyEnforcer, scheduleRestart } from '../../../../host/plugin/runtime/failure-policy.js';
import { HealthState } from '../../../../host/plugin/runtime/health.js';
import type { RuntimeOwner } from '../../../../host/plugin/runtime/runtime.js';
import type { PeerInfo } from '../../../../host/plugin/world.js';

const PEER: PeerInfo = { address: '127.0.0.1', port: 1, transport: 'tcp', secure: false, resumed: true };

function setup(policy: FailurePolicy, open: number[] = [1, 2, 3]) {
  const live = new Set(open);
  const failedChannels: number[] = [];
  const pluginFailed: string[] = [];
  const owner: RuntimeOwner = {
    onChannelFailed(ch) {
      failedChannels.push(ch);
      live.delete(ch);
    },
    onConnectDecided() {},
    liveChannels: () => [...live].map((ch) => [ch, PEER] as const),
    onInstanceReplaced() {},
    onPluginFailed: (err) => void pluginFailed.push(err.code),
  };
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const health = new HealthState(log);
  health.set('ok');
  let now = 0;
  const enforcer = new FailurePolicyEnforcer({ policy, owner, log, health, nowMs: () => now });
  return { enforcer, health, failedChannels, pluginFailed, lines, live, tick: (ms: number) => (now += ms) };
}

const trap = (): PluginTrapError => new PluginTrapError('handle-msg', { cause: new Error('unreachable') });

describe('FailurePolicyEnforcer (one failure policy for both runtimes)', () => {
  it('reload: closes only the failed channel, restarts at once, then resumes the open channels', () => {
    const s = setup('reload');
    expect(s.enforcer.failed('handle-msg', 2, trap())).toEqual({ action: 'restart', delayMs: 0, resume: true });
    expect(s.failedChannels).toEqual([2]);
    expect(s.health.value).toBe('restarting');
    expect(s.lines.find((l) => l.code === 'PB_ERR_PLUGIN_TRAP')).toMatchObject({ export: 'handle-msg', channel: 2, policy: 'reload' });
  });

  it('close: closes every open channel, restarts at once without resuming any', () => {
    const s = setup('close');
    expect(s.enforcer.failed('handle-msg', 2, trap())).toEqual({ action: 'restart', delayMs: 0, resume: false });
    expect(s.failedChannels).toEqual([2, 1, 3]);
    expect(s.live.size).toBe(0);
  });

  it('fail-closed: gives up at the first failure', () => {
    const s = setup('fail-closed');
    const r = s.enforcer.failed('handle-broken', 0, trap());
    expect(r.action).toBe('give-up');
    expect(s.failedChannels).toEqual([]); // a call about no channel closes none
    if (r.action === 'give-up') s.enforcer.giveUp(r.error);
    expect(s.health.value).toBe('failed');
    expect(s.pluginFailed).toEqual(['PB_ERR_PLUGIN_FAILED']);
  });

  it('backs off after the first restart and gives up past the cap within a minute', () => {
    const s = setup('reload', []);
    const delays: number[] = [];
    for (let i = 0; i < MAX_PLUGIN_RESTARTS_PER_WINDOW; i++) {
      const r = s.enforcer.failed('handle-msg', 0, trap());
      expect(r.action).toBe('restart');
      if (r.action === 'restart') delays.push(r.delayMs);
      s.tick(1);
    }
    expect(delays.slice(0, 3)).toEqual([0, 1, 2]);
    expect(s.enforcer.failed('handle-msg', 0, trap()).action).toBe('give-up');
  });

  it('report alone closes the channel and logs, deciding nothing (a runtime that is stopping)', () => {
    const s = setup('close');
    s.enforcer.report('stop', 0, trap());
    s.enforcer.report('handle-msg', 3, trap());
    expect(s.failedChannels).toEqual([3]);
    expect(s.health.value).toBe('restarting');
  });

  it('scheduleRestart runs a 0 ms restart synchronously and a later one on a timer', () => {
    vi.useFakeTimers();
    try {
      const runs: string[] = [];
      expect(scheduleRestart(0, () => runs.push('now'))).toBeUndefined();
      expect(runs).toEqual(['now']);
      const timer = scheduleRestart(5, () => runs.push('later'));
      expect(timer).toBeDefined();
      vi.advanceTimersByTime(4);
      expect(runs).toEqual(['now']);
      vi.advanceTimersByTime(1);
      expect(runs).toEqual(['now', 'later']);
    } finally {
      vi.useRealTimers();
    }
  });
});
