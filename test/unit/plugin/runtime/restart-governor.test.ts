import { describe, expect, it } from 'vitest';
import {
  MAX_PLUGIN_RESTARTS_PER_WINDOW,
  PLUGIN_RESTART_BACKOFF_BASE_MS,
  PLUGIN_RESTART_BACKOFF_MAX_MS,
  PLUGIN_RESTART_WINDOW_MS,
} from '../../../../host/limits.js';
import { RestartGovernor } from '../../../../host/plugin/runtime/restart-governor.js';

describe('RestartGovernor', () => {
  it('restarts at once the first time, then waits twice as long each time up to the maximum', () => {
    const g = new RestartGovernor();
    const delays = Array.from({ length: 14 }, (_, i) => g.next(1000 + i));
    expect(delays.slice(0, 4)).toEqual([0, PLUGIN_RESTART_BACKOFF_BASE_MS, 2 * PLUGIN_RESTART_BACKOFF_BASE_MS, 4 * PLUGIN_RESTART_BACKOFF_BASE_MS]);
    for (let i = 2; i < delays.length; i++) expect(delays[i]).toBe(Math.min(2 * delays[i - 1]!, PLUGIN_RESTART_BACKOFF_MAX_MS));
    expect(delays.at(-1)).toBe(PLUGIN_RESTART_BACKOFF_MAX_MS);
    expect(g.recent).toBe(14);
  });

  it('gives up past the cap within one window', () => {
    const g = new RestartGovernor();
    for (let i = 0; i < MAX_PLUGIN_RESTARTS_PER_WINDOW; i++) expect(g.next(i)).not.toBeNull();
    expect(g.next(MAX_PLUGIN_RESTARTS_PER_WINDOW)).toBeNull();
    expect(g.recent).toBe(MAX_PLUGIN_RESTARTS_PER_WINDOW);
  });

  it('forgets restarts older than the window: the next one is immediate again', () => {
    const g = new RestartGovernor();
    expect(g.next(0)).toBe(0);
    expect(g.next(10)).toBe(PLUGIN_RESTART_BACKOFF_BASE_MS);
    expect(g.next(10 + PLUGIN_RESTART_WINDOW_MS)).toBe(0);
    expect(g.recent).toBe(1);
  });
});
