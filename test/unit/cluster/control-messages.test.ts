import { describe, expect, it } from 'vitest';
import { decodeControl, encodeControl, groupCountBytes, type ControlMessage } from '../../../host/cluster/control-messages.js';
import { ClusterMessageError } from '../../../host/errors.js';

const bytes = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v));
const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ClusterMessageError);
    return (err as ClusterMessageError).code;
  }
  return undefined;
};

describe('cluster control messages', () => {
  it('decodes what it encodes, for every kind', () => {
    const msgs: ControlMessage[] = [
      { t: 'presence', node: 'a', epoch: 7, seq: 3, intervalMs: 2000 },
      {
        t: 'members',
        node: 'n-1',
        epoch: 0xffff_ffff,
        seq: 1,
        groups: [
          ['room', 2],
          ['ü ✓', 0],
        ],
      },
      { t: 'snapshot', node: 'b_2', epoch: 1, seq: 9, part: 0, last: true, groups: [] },
      { t: 'sync', node: 'c' },
      { t: 'bye', node: 'd', epoch: 5 },
      { t: 'bye', node: 'd' },
    ];
    for (const m of msgs) expect(decodeControl(encodeControl(m), m.t)).toEqual(m);
  });

  it('refuses non-JSON, another version, another kind and a bad node id', () => {
    expect(code(() => decodeControl(Buffer.from('not json'), 'presence'))).toBe('PB_ERR_CLUSTER_BAD_MESSAGE');
    expect(code(() => decodeControl(bytes([1, 2]), 'presence'))).toBe('PB_ERR_CLUSTER_BAD_MESSAGE');
    expect(code(() => decodeControl(bytes({ v: 2, t: 'sync', node: 'a' }), 'sync'))).toBe('PB_ERR_CLUSTER_BAD_MESSAGE');
    expect(code(() => decodeControl(bytes({ v: 1, t: 'sync', node: 'a' }), 'bye'))).toBe('PB_ERR_CLUSTER_BAD_MESSAGE');
    expect(code(() => decodeControl(bytes({ v: 1, t: 'sync', node: 'a.b' }), 'sync'))).toBe('PB_ERR_CLUSTER_BAD_MESSAGE');
    expect(code(() => decodeControl(bytes({ v: 1, t: 'sync' }), 'sync'))).toBe('PB_ERR_CLUSTER_BAD_MESSAGE');
  });

  it('refuses fields out of their domain', () => {
    const presence = { v: 1, t: 'presence', node: 'a', epoch: 1, seq: 1, intervalMs: 100 };
    expect(code(() => decodeControl(bytes({ ...presence, epoch: -1 }), 'presence'))).toBeDefined();
    expect(code(() => decodeControl(bytes({ ...presence, seq: 1.5 }), 'presence'))).toBeDefined();
    expect(code(() => decodeControl(bytes({ ...presence, intervalMs: 0 }), 'presence'))).toBeDefined();
    expect(code(() => decodeControl(bytes({ ...presence, intervalMs: '100' }), 'presence'))).toBeDefined();
    const members = { v: 1, t: 'members', node: 'a', epoch: 1, seq: 1 };
    expect(code(() => decodeControl(bytes({ ...members, groups: {} }), 'members'))).toBeDefined();
    expect(code(() => decodeControl(bytes({ ...members, groups: [['', 1]] }), 'members'))).toBeDefined();
    expect(code(() => decodeControl(bytes({ ...members, groups: [['x'.repeat(257), 1]] }), 'members'))).toBeDefined();
    expect(code(() => decodeControl(bytes({ ...members, groups: [['room', -1]] }), 'members'))).toBeDefined();
    expect(code(() => decodeControl(bytes({ ...members, groups: [['room', 1, 2]] }), 'members'))).toBeDefined();
    expect(code(() => decodeControl(bytes({ v: 1, t: 'snapshot', node: 'a', epoch: 1, seq: 1, part: 0, last: 'yes', groups: [] }), 'snapshot'))).toBeDefined();
  });

  it('bounds the encoded size of a group entry from above', () => {
    for (const name of ['a', 'room 42', '"\\\n', '✓'.repeat(80), '\u0001'.repeat(50)]) {
      const encoded = Buffer.byteLength(JSON.stringify([name, 4294967295])) + 1;
      expect(groupCountBytes([name, 4294967295])).toBeGreaterThanOrEqual(encoded);
    }
  });
});
