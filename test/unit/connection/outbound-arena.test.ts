import { describe, expect, it } from 'vitest';
import { OutboundArena, OutboundBatch } from '../../../host/connection/outbound-arena.js';

const bytes = (s: string) => Buffer.from(s);
const text = (q: Buffer | Buffer[] | null) => (q === null ? null : Buffer.concat(Array.isArray(q) ? q : [q]).toString());

describe('OutboundArena', () => {
  it('encodes frames queued back to back as one contiguous range', () => {
    const arena = new OutboundArena();
    const b = new OutboundBatch();
    arena.appendFrame(b, bytes('xhello'), 1, 6);
    arena.appendFrame(b, bytes('ab'), 0, 2);
    const q = b.take();
    expect(Array.isArray(q)).toBe(false);
    expect(text(q)).toBe('5\nhello2\nab');
    expect(b.take()).toBeNull();
  });

  it('splits a batch into segments when another connection interleaved', () => {
    const arena = new OutboundArena();
    const a = new OutboundBatch();
    const other = new OutboundBatch();
    arena.appendFrame(a, bytes('one'), 0, 3);
    arena.appendFrame(other, bytes('x'), 0, 1);
    arena.appendFrame(a, bytes('two'), 0, 3);
    const q = a.take();
    expect(Array.isArray(q)).toBe(true);
    expect(text(q)).toBe('3\none3\ntwo');
    expect(text(other.take())).toBe('1\nx');
  });

  it('reuses a released range only when it is the last one handed out', () => {
    const arena = new OutboundArena();
    const a = new OutboundBatch();
    arena.appendFrame(a, bytes('first'), 0, 5);
    const { slab, start, end } = a;
    const first = a.take() as Buffer;
    arena.release(slab!, start, end);
    const b = new OutboundBatch();
    arena.appendFrame(b, bytes('again'), 0, 5);
    expect(b.slab).toBe(slab);
    expect(b.start).toBe(start); // the released range was reused
    // `first` is a view of the same bytes: only released ranges may be overwritten like this.
    expect(first.toString()).toBe('5\nagain');

    const c = new OutboundBatch();
    arena.appendFrame(c, bytes('keep'), 0, 4);
    arena.release(b.slab!, b.start, b.end); // not the last range: ignored
    const d = new OutboundBatch();
    arena.appendFrame(d, bytes('next'), 0, 4);
    expect(text(c.take())).toBe('4\nkeep');
    expect(d.start).toBeGreaterThanOrEqual(c.end);
  });

  it('gives large frames a buffer of their own, keeping order with the rest', () => {
    const arena = new OutboundArena();
    const b = new OutboundBatch();
    const big = Buffer.alloc(70 * 1024, 0x62);
    arena.appendFrame(b, bytes('s'), 0, 1);
    arena.appendFrame(b, big, 0, big.length);
    arena.appendFrame(b, bytes('t'), 0, 1);
    const q = b.take() as Buffer[];
    expect(q).toHaveLength(3);
    expect(text(q)).toBe(`1\ns${big.length}\n${big.toString()}1\nt`);
  });

  it('copies the current bytes when the same range of the same memory is sent again (#15)', () => {
    const arena = new OutboundArena();
    const mem = new Uint8Array(16);
    const b = new OutboundBatch();
    mem.set(bytes('ping'), 4);
    arena.appendFrame(b, mem, 4, 8);
    mem.set(bytes('pong'), 4); // a plugin answering from one reused buffer
    arena.appendFrame(b, mem, 4, 8);
    arena.appendFrame(b, mem, 4, 6);
    expect(text(b.take())).toBe('4\nping4\npong2\npo');
  });

  it('copies from the grown memory after a wasm memory.grow detached the old buffer (#15)', () => {
    const arena = new OutboundArena();
    const memory = new WebAssembly.Memory({ initial: 1 });
    const before = new Uint8Array(memory.buffer);
    before.set(bytes('old!'), 100);
    const b = new OutboundBatch();
    arena.appendFrame(b, before, 100, 104);
    memory.grow(1);
    const after = new Uint8Array(memory.buffer);
    after.set(bytes('new!'), 100);
    arena.appendFrame(b, after, 100, 104);
    expect(text(b.take())).toBe('4\nold!4\nnew!');
    // The stale view over the detached buffer is never used again, even for the same range.
    expect(() => arena.appendFrame(new OutboundBatch(), before, 100, 104)).toThrow();
  });
});
