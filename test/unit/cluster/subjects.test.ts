import { describe, expect, it } from 'vitest';
import { Subjects, groupToken, isClusterToken } from '../../../host/cluster/subjects.js';

describe('cluster subjects', () => {
  it('namespaces every subject by cluster name', () => {
    const a = new Subjects('blue');
    const b = new Subjects('green');
    for (const s of [a.presence, a.members, a.bye, a.sync('n'), a.snapshot('n'), a.group('room'), a.service('logic'), a.channels('n'), a.channel('n', 't')]) {
      expect(s.startsWith('pb.blue.')).toBe(true);
    }
    expect(a.group('room')).not.toBe(b.group('room'));
    expect(a.channels('n')).toBe('pb.blue.ch.n.*');
    expect(a.service('logic')).toBe('pb.blue.svc.logic');
  });

  it('turns any group name into one reversible subject token', () => {
    for (const name of ['room', 'a.b', 'x y', '*', '>', 'ü✓', 'user:alice', 'x'.repeat(256)]) {
      const token = groupToken(name);
      expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(token, 'base64url').toString('utf8')).toBe(name);
    }
    expect(new Subjects('c').group('a.b')).toBe(`pb.c.v1.g.${groupToken('a.b')}`);
  });

  it('accepts node ids and cluster names of 1 to 64 token characters only', () => {
    expect(['a', 'node-1', 'A_b-9', 'x'.repeat(64)].every(isClusterToken)).toBe(true);
    expect(['', 'a.b', 'a b', 'a*', '>', 'ü', 'x'.repeat(65), 7, undefined].some(isClusterToken)).toBe(false);
  });
});
