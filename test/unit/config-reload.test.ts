/**
 * What a reload does with each changed option: `live` and `swap` options take their new value,
 * `restart` options keep the running one and are listed.
 */
import { describe, expect, it } from 'vitest';
import { OPTION_DEFS, planReload, resolveOptions } from '../../host/config.js';

const base = resolveOptions({ plugin: 'a.wasm', port: 1000, logLevel: 'info' });

describe('planReload', () => {
  it('changes nothing when nothing changed', () => {
    const plan = planReload(base, resolveOptions({ plugin: 'a.wasm', port: 1000 }));
    expect(plan).toMatchObject({ live: [], swap: [], restart: [] });
    expect(plan.next).toEqual(base);
  });

  it('applies log level, rate limits, caps and upstreams; the plugin through the swap; keeps the port', () => {
    const wanted = resolveOptions({
      plugin: 'b.wasm',
      pluginConfig: 'v2',
      port: 2000,
      logLevel: 'debug',
      rateFrames: 10,
      maxConnections: 5,
      upstream: { logic: 'h:1' },
    });
    const plan = planReload(base, wanted);
    expect([...plan.live].sort()).toEqual(['logLevel', 'maxConnections', 'rateFrames', 'upstream']);
    expect([...plan.swap].sort()).toEqual(['plugin', 'pluginConfig']);
    expect(plan.restart).toEqual(['port', 'listen']); // the default tcp:// listener follows the port (#10)
    expect(plan.next).toMatchObject({ plugin: 'b.wasm', pluginConfig: 'v2', port: 1000, logLevel: 'debug', rateFrames: 10, maxConnections: 5 });
    expect(plan.next.upstream.logic.nodes).toEqual([{ host: 'h', port: 1 }]);
    expect(Object.isFrozen(plan.next)).toBe(true);
  });

  it('documents the reloadable subset the issue names: log level, rate limits, caps, upstream nodes', () => {
    const live = OPTION_DEFS.filter((d) => d.meta.reload === 'live').map((d) => d.key);
    expect(live.sort()).toEqual([
      'acceptRatePerIp',
      'logLevel',
      'maxConnections',
      'maxConnectionsPerIp',
      'rateAction',
      'rateBurst',
      'rateBytes',
      'rateFrames',
      'upstream',
    ]);
  });
});
