import { describe, expect, it } from 'vitest';
import { FanOut, type FanOutTarget } from '../../../host/routing/fan-out.js';

class Sink implements FanOutTarget {
  readonly chunks: Buffer[] = [];
  live = true;
  sendEncoded(frames: Buffer): boolean {
    if (!this.live) return false;
    this.chunks.push(frames);
    return true;
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString();
  }
}

function setup(n: number, slabBytes?: number) {
  const sinks = new Map<number, Sink>();
  for (let i = 1; i <= n; i++) sinks.set(i, new Sink());
  const fanOut = new FanOut((ch) => sinks.get(ch), slabBytes);
  return { sinks, fanOut, members: new Set(sinks.keys()) };
}
const b = (s: string): Buffer => Buffer.from(s);
const send = (f: FanOut, members: Set<number>, except: number, s: string): number => f.send(members, except, b(s), 0, s.length);

describe('FanOut', () => {
  it('hands consecutive sends to the same members over as one shared buffer', () => {
    const { sinks, fanOut, members } = setup(3);
    expect(send(fanOut, members, 0, 'one')).toBe(3);
    expect(send(fanOut, members, 0, 'two')).toBe(3);
    expect(sinks.get(1)!.chunks).toHaveLength(0); // staged until flush
    fanOut.flush();
    for (const s of sinks.values()) {
      expect(s.chunks).toHaveLength(1);
      expect(s.text).toBe('3\none3\ntwo');
    }
    expect(sinks.get(1)!.chunks[0]).toBe(sinks.get(2)!.chunks[0]);
  });

  it('skips the excepted member and counts without it', () => {
    const { sinks, fanOut, members } = setup(3);
    expect(send(fanOut, members, 2, 'hi')).toBe(2);
    fanOut.flush();
    expect(sinks.get(2)!.text).toBe('');
    expect(sinks.get(1)!.text).toBe('2\nhi');
  });

  it('starts a new run when the exception changes, keeping order', () => {
    const { sinks, fanOut, members } = setup(2);
    send(fanOut, members, 0, 'a');
    send(fanOut, members, 1, 'b');
    send(fanOut, members, 0, 'c');
    fanOut.flush();
    expect(sinks.get(1)!.text).toBe('1\na1\nc');
    expect(sinks.get(2)!.text).toBe('1\na1\nb1\nc');
  });

  it('counts 0 and stages nothing for an empty member set', () => {
    const { fanOut } = setup(0);
    expect(send(fanOut, new Set(), 0, 'x')).toBe(0);
  });

  it('never rewrites a range handed out when the slab fills up', () => {
    const { sinks, fanOut, members } = setup(2, 64);
    const bodies = Array.from({ length: 40 }, (_, i) => `m${i.toString().padStart(4, '0')}`);
    for (const body of bodies) send(fanOut, members, 0, body);
    fanOut.flush();
    const expected = bodies.map((s) => `${s.length}\n${s}`).join('');
    expect(sinks.get(1)!.text).toBe(expected);
    expect(sinks.get(2)!.text).toBe(expected);
  });

  it('gives a frame above a quarter slab its own buffer, in order', () => {
    const { sinks, fanOut, members } = setup(1, 64);
    send(fanOut, members, 0, 'a');
    send(fanOut, members, 0, 'x'.repeat(40));
    send(fanOut, members, 0, 'b');
    fanOut.flush();
    expect(sinks.get(1)!.text).toBe(`1\na40\n${'x'.repeat(40)}1\nb`);
  });

  it('flushes by itself at the end of the tick', async () => {
    const { sinks, fanOut, members } = setup(1);
    send(fanOut, members, 0, 'tick');
    await new Promise<void>((r) => process.nextTick(r));
    expect(sinks.get(1)!.text).toBe('4\ntick');
  });

  it('tolerates a member leaving the set while the run is delivered', () => {
    const { sinks, members } = setup(3);
    const fanOut = new FanOut((ch) => {
      if (ch === 1) members.delete(2); // e.g. a slow consumer closed from inside sendEncoded
      return sinks.get(ch);
    });
    send(fanOut, members, 0, 'z');
    fanOut.flush();
    expect(sinks.get(1)!.text).toBe('1\nz');
    expect(sinks.get(2)!.text).toBe('');
    expect(sinks.get(3)!.text).toBe('1\nz');
  });
});
