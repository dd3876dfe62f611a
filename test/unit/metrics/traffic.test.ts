import { describe, expect, it } from 'vitest';
import { ClientTraffic } from '../../../host/metrics/traffic.js';

class Counters {
  framesIn = 0;
  framesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
}

describe('ClientTraffic', () => {
  it('sums live and gone connections, so totals never go down when one closes', () => {
    const t = new ClientTraffic<Counters>();
    const a = new Counters();
    const b = new Counters();
    t.opened(a, 'tcp');
    t.opened(b, 'ws');
    a.framesIn = 3;
    a.bytesIn = 30;
    b.framesOut = 5;
    b.bytesOut = 50;
    expect(t.totals()).toEqual({ framesIn: 3, framesOut: 5, bytesIn: 30, bytesOut: 50 });
    t.ended(a, 'peer-closed');
    a.bytesOut = 7; // flushed while closing
    expect(t.totals().bytesOut).toBe(57);
    t.released(a);
    expect(t.totals()).toEqual({ framesIn: 3, framesOut: 5, bytesIn: 30, bytesOut: 57 });
    expect(t.connections()).toEqual({ tcp: 0, tls: 0, ws: 1, wss: 0 });
    expect(t.openedTotal).toBe(2);
    expect(t.closedTotal()).toEqual({ 'peer-closed': 1 });
  });

  it('ignores connections it never saw (upstream channels)', () => {
    const t = new ClientTraffic<Counters>();
    const up = new Counters();
    up.framesIn = 9;
    t.ended(up, 'peer-closed');
    t.released(up);
    expect(t.has(up)).toBe(false);
    expect(t.totals().framesIn).toBe(0);
    expect(t.closedTotal()).toEqual({});
  });
});
