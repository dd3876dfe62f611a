/**
 * The absolute handshake deadline, with fake timers and fake sockets: it runs from the accept
 * whatever the peer sends, a finished handshake stops it, the layer above a socket finds it by the
 * peer's address and port, and an expiry is counted once.
 */
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AcceptGate, HandshakeRefusal } from '../../../host/transport/accept-gate.js';
import { HandshakeDeadlines } from '../../../host/transport/handshake-deadline.js';

class FakeSocket extends EventEmitter {
  destroyed = false;
  constructor(
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {
    super();
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }
}
const sock = (port: number): FakeSocket & net.Socket => new FakeSocket('127.0.0.1', port) as FakeSocket & net.Socket;

function gate(): AcceptGate & { refused: HandshakeRefusal[] } {
  const refused: HandshakeRefusal[] = [];
  return { refused, admit: () => true, release: () => {}, refuse: (r) => void refused.push(r) };
}

describe('HandshakeDeadlines', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('destroys a connection whose handshake has not finished timeoutMs after the accept, counted as handshake-timeout', () => {
    const g = gate();
    const d = new HandshakeDeadlines(1000, g);
    const s = sock(4000);
    d.start(s);
    vi.advanceTimersByTime(999);
    s.emit('data', Buffer.from('G')); // activity does not move an absolute deadline
    expect(s.destroyed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(s.destroyed).toBe(true);
    expect(g.refused).toEqual(['handshake-timeout']);
    expect(d.size).toBe(0);
  });

  it('stops the clock when the handshake finishes, found again through a socket layered on it (same peer address and port)', () => {
    const g = gate();
    const d = new HandshakeDeadlines(1000, g);
    const raw = sock(4001);
    d.start(raw);
    expect(d.finish(sock(4001))).toBe(true);
    vi.advanceTimersByTime(5000);
    expect(raw.destroyed).toBe(false);
    expect(g.refused).toEqual([]);
  });

  it('answers false to a finish after the deadline passed, so a late handshake is not served nor counted twice', () => {
    const g = gate();
    const d = new HandshakeDeadlines(100, g);
    const s = sock(4002);
    d.start(s);
    vi.advanceTimersByTime(100);
    expect(d.finish(s)).toBe(false);
    expect(g.refused).toEqual(['handshake-timeout']);
  });

  it('forgets a connection that closed during its handshake, and keeps the others', () => {
    const g = gate();
    const d = new HandshakeDeadlines(100, g);
    const a = sock(4003);
    const b = sock(4004);
    d.start(a);
    d.start(b);
    a.destroy();
    expect(d.size).toBe(1);
    vi.advanceTimersByTime(100);
    expect(g.refused).toEqual(['handshake-timeout']);
    expect(b.destroyed).toBe(true);
  });

  it('destroys every pending handshake when its listener closes', () => {
    const d = new HandshakeDeadlines(100, gate());
    const a = sock(4005);
    d.start(a);
    d.destroyAll();
    expect(a.destroyed).toBe(true);
    expect(d.size).toBe(0);
  });
});
