/**
 * Unit tests of the records that cross to and from a plugin worker: bounded batches, named bodies
 * (group-send, upstream-open) and the group-mirror body. Pure: no worker is started.
 */
import { describe, expect, it } from 'vitest';
import { RecordWriter, decodeNamed, encodeMemberships, encodeNamed, forEachMembership, forEachRecord } from '../../../../host/plugin/worker/worker-protocol.js';

const kinds = (bytes: Uint8Array): number[] => {
  const out: number[] = [];
  forEachRecord(bytes, (r) => void out.push(r.kind));
  return out;
};

describe('RecordWriter.takeUpTo', () => {
  it('takes whole records up to the byte bound and keeps the rest in order', () => {
    const w = new RecordWriter();
    for (let k = 1; k <= 5; k++) w.push(k, k, Buffer.alloc(10, k)); // 19 bytes each
    const first = w.takeUpTo(40);
    expect(kinds(first)).toEqual([1, 2]);
    expect(w.count).toBe(3);
    expect(kinds(w.takeUpTo(1000))).toEqual([3, 4, 5]);
    expect(w.count).toBe(0);
    expect(w.length).toBe(0);
  });

  it('takes one record even when it alone is above the bound', () => {
    const w = new RecordWriter();
    w.push(7, 0, Buffer.alloc(100));
    w.push(8, 0);
    expect(kinds(w.takeUpTo(10))).toEqual([7]);
    expect(kinds(w.take())).toEqual([8]);
  });
});

describe('encodeNamed / decodeNamed', () => {
  it('round-trips a name with a string or a byte range after it', () => {
    const a = decodeNamed(encodeNamed('logic', 'key-é'));
    expect([a.name, a.rest.toString('utf8')]).toEqual(['logic', 'key-é']);
    const b = decodeNamed(encodeNamed('room', Buffer.from('xxhelloxx'), 2, 7));
    expect([b.name, b.rest.toString()]).toEqual(['room', 'hello']);
  });
});

describe('encodeMemberships / forEachMembership', () => {
  it('round-trips every group with its members', () => {
    const groups = new Map<string, Set<number>>([
      ['a', new Set([1, 2, 0xffff_ffff])],
      ['bé', new Set([3])],
    ]);
    const seen: Array<[string, number]> = [];
    forEachMembership(encodeMemberships(groups), (g, ch) => void seen.push([g, ch]));
    expect(seen).toEqual([
      ['a', 1],
      ['a', 2],
      ['a', 0xffff_ffff],
      ['bé', 3],
    ]);
  });

  it('encodes no groups as an empty body', () => {
    expect(encodeMemberships([]).length).toBe(0);
  });
});

describe('RecordWriter.takeInto', () => {
  it('copies whole records up to the byte bound into the target and keeps the rest in order', () => {
    const w = new RecordWriter();
    for (let k = 1; k <= 5; k++) w.push(k, k, Buffer.alloc(10, k)); // 19 bytes each
    const target = new Uint8Array(new SharedArrayBuffer(64));
    expect(w.takeInto(target, 40)).toBe(38);
    expect(kinds(target.subarray(0, 38))).toEqual([1, 2]);
    expect(w.count).toBe(3);
    expect(w.takeInto(target, 1000)).toBe(57);
    expect(kinds(target.subarray(0, 57))).toEqual([3, 4, 5]);
    expect([w.count, w.length]).toEqual([0, 0]);
  });

  it('takes one record above the bound when it fits in the target, and none when it does not', () => {
    const w = new RecordWriter();
    w.push(7, 0, Buffer.alloc(100));
    w.push(8, 0);
    expect(w.takeInto(new Uint8Array(50), 10)).toBe(0);
    expect(w.count).toBe(2);
    const target = new Uint8Array(200);
    expect(w.takeInto(target, 10)).toBe(109);
    expect(kinds(target.subarray(0, 109))).toEqual([7]);
    expect(kinds(w.take())).toEqual([8]);
  });
});
