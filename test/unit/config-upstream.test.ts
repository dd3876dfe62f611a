import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../host/config.js';

const PLUGIN = 'p.wasm';
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};

describe('resolveOptions: upstream', () => {
  it('parses the CLI text: nodes and policy', () => {
    const o = resolveOptions({ plugin: PLUGIN, upstream: { logic: '127.0.0.1:7001,[::1]:7002/least-connections', chat: 'h:1' } });
    expect(o.upstream).toEqual({
      logic: {
        nodes: [
          { host: '127.0.0.1', port: 7001 },
          { host: '::1', port: 7002 },
        ],
        policy: 'least-connections',
      },
      chat: { nodes: [{ host: 'h', port: 1 }], policy: 'round-robin' },
    });
  });

  it('takes the object form', () => {
    const o = resolveOptions({ plugin: PLUGIN, upstream: { logic: { nodes: ['a:1', { host: 'b', port: 2 }], policy: 'consistent-hash' } } });
    expect(o.upstream.logic.nodes).toEqual([
      { host: 'a', port: 1 },
      { host: 'b', port: 2 },
    ]);
  });

  it.each([
    ['no nodes', { logic: '/round-robin' }],
    ['no port', { logic: '127.0.0.1' }],
    ['port 0', { logic: '127.0.0.1:0' }],
    ['port too large', { logic: '127.0.0.1:70000' }],
    ['unknown policy', { logic: '127.0.0.1:1/random' }],
    ['empty service name', { '': '127.0.0.1:1' }],
    ['empty node list', { logic: { nodes: [] } }],
  ])('refuses %s with PB_ERR_INVALID_OPTION', (_, upstream) => {
    expect(codeOf(() => resolveOptions({ plugin: PLUGIN, upstream: upstream as never }))).toBe('PB_ERR_INVALID_OPTION');
  });
});
