import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { defaultNodeId, parseClusterServers, resolveProcesses } from '../../../host/cluster/cluster-options.js';
import { reconnectDelayMs } from '../../../host/cluster/nats-bus.js';
import { isClusterToken } from '../../../host/cluster/subjects.js';
import { resolveOptions } from '../../../host/config.js';
import { InvalidOptionError } from '../../../host/errors.js';

const invalid = (f: () => unknown): InvalidOptionError => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidOptionError);
    return err as InvalidOptionError;
  }
  throw new Error('no error');
};

describe('cluster options', () => {
  it('normalises nats:// URLs, one string or a list, with the default port', () => {
    expect(parseClusterServers('nats://127.0.0.1:4333')).toEqual({ servers: ['nats://127.0.0.1:4333'] });
    expect(parseClusterServers('nats://a:1, nats://b')).toEqual({ servers: ['nats://a:1', 'nats://b:4222'] });
    expect(parseClusterServers(['nats://u:p@h:5/'])).toEqual({ servers: ['nats://u:p@h:5'] });
    expect(parseClusterServers(undefined)).toEqual({ servers: [] });
    expect(parseClusterServers([])).toEqual({ servers: [] });
  });

  it('refuses anything but nats://host:port, naming the option', () => {
    for (const bad of ['127.0.0.1:4222', 'http://h:4222', 'nats://h:99999', 'nats://h:1/path', 'nats://h:1?x=1', 'nats://', ',', 42]) {
      expect(parseClusterServers(bad)).toHaveProperty('error');
      const err = invalid(() => resolveOptions({ plugin: 'x.wasm', cluster: bad as string }));
      expect([err.option, err.code]).toEqual(['cluster', 'PB_ERR_INVALID_OPTION']);
    }
  });

  it('defaults the node id to a token made of the host name and the pid', () => {
    const id = defaultNodeId(4242);
    expect(isClusterToken(id)).toBe(true);
    expect(id.endsWith('-4242')).toBe(true);
  });

  it('takes --processes as a count or auto', () => {
    expect(resolveProcesses('3')).toBe(3);
    expect(resolveProcesses(2)).toBe(2);
    expect(resolveProcesses('auto')).toBe(availableParallelism());
    for (const bad of ['0', '-1', 'two', 1.5, 257]) {
      expect(resolveProcesses(bad)).toBeUndefined();
      expect(invalid(() => resolveOptions({ plugin: 'x.wasm', cluster: 'nats://h:1', processes: bad as number })).option).toBe('processes');
    }
  });

  it('checks the cluster block in resolveOptions: ids, interval, and what needs --cluster', () => {
    const base = { plugin: 'x.wasm' };
    const o = resolveOptions({ ...base, cluster: 'nats://127.0.0.1:4333', nodeId: 'n1', processes: 'auto' });
    expect([o.cluster, o.nodeId, o.clusterName, o.processes, o.clusterPresenceIntervalMs]).toEqual([
      ['nats://127.0.0.1:4333'],
      'n1',
      'plugbroker',
      availableParallelism(),
      2000,
    ]);
    expect(resolveOptions(base).cluster).toEqual([]);
    expect(resolveOptions(base).processes).toBeUndefined();
    expect(isClusterToken(resolveOptions(base).nodeId)).toBe(true);
    expect(invalid(() => resolveOptions({ ...base, processes: 2 })).option).toBe('processes');
    expect(invalid(() => resolveOptions({ ...base, upstream: { logic: 'nats' } })).option).toBe('upstream');
    expect(invalid(() => resolveOptions({ ...base, cluster: 'nats://h:1', nodeId: 'a.b' })).option).toBe('nodeId');
    expect(invalid(() => resolveOptions({ ...base, cluster: 'nats://h:1', clusterName: '' })).option).toBe('clusterName');
    expect(invalid(() => resolveOptions({ ...base, cluster: 'nats://h:1', clusterPresenceIntervalMs: 5000 })).option).toBe('clusterPresenceIntervalMs');
    expect(invalid(() => resolveOptions({ ...base, cluster: 'tcp://h:1' })).code).toBe('PB_ERR_INVALID_OPTION');
  });

  it('accepts a NATS upstream (name=nats) with a cluster, named as one subject token', () => {
    const o = resolveOptions({ plugin: 'x.wasm', cluster: 'nats://h:1', upstream: { logic: 'nats', other: ' nats ' } });
    expect(o.upstream.logic).toEqual({ transport: 'nats', nodes: [], policy: 'round-robin' });
    expect(o.upstream.other.transport).toBe('nats');
    expect(resolveOptions({ plugin: 'x.wasm', upstream: { t: '127.0.0.1:1' } }).upstream.t.transport).toBeUndefined();
    expect(invalid(() => resolveOptions({ plugin: 'x.wasm', cluster: 'nats://h:1', upstream: { 'a.b': 'nats' } })).option).toBe('upstream');
    expect(invalid(() => resolveOptions({ plugin: 'x.wasm', cluster: 'nats://h:1', upstream: { a: 'nats/round-robin' } })).option).toBe('upstream');
  });
});

describe('reconnectDelayMs', () => {
  it('doubles from the base up to the maximum, jittered in [1/2, 1]', () => {
    expect([0, 1, 2, 3, 10, 40].map((a) => reconnectDelayMs(a, 0, 100, 4000))).toEqual([50, 100, 200, 400, 2000, 2000]);
    expect([0, 1, 5, 6, 100].map((a) => reconnectDelayMs(a, 0.999999, 100, 4000))).toEqual([100, 200, 3200, 4000, 4000]);
  });
});
