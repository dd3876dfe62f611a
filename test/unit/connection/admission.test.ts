import { describe, expect, it } from 'vitest';
import { Admission } from '../../../host/connection/admission.js';

describe('Admission', () => {
  it('admits up to maxConnections and refuses the rest until one is released', () => {
    const a = new Admission({ maxConnections: 2, maxConnectionsPerIp: 0, acceptRatePerIp: 0 });
    expect(a.admit('1.1.1.1', 0)).toBeNull();
    expect(a.admit('2.2.2.2', 0)).toBeNull();
    expect(a.admit('3.3.3.3', 0)).toBe('max-connections');
    a.release('1.1.1.1');
    expect(a.admit('3.3.3.3', 0)).toBeNull();
    expect(a.live).toBe(2);
  });

  it('caps each IP on its own', () => {
    const a = new Admission({ maxConnections: 0, maxConnectionsPerIp: 1, acceptRatePerIp: 0 });
    expect(a.admit('1.1.1.1', 0)).toBeNull();
    expect(a.admit('1.1.1.1', 0)).toBe('max-connections-per-ip');
    expect(a.admit('2.2.2.2', 0)).toBeNull();
  });

  it('limits the accept rate per IP with a bucket of one second', () => {
    const a = new Admission({ maxConnections: 0, maxConnectionsPerIp: 0, acceptRatePerIp: 3 });
    const results = Array.from({ length: 5 }, () => a.admit('1.1.1.1', 0));
    expect(results).toEqual([null, null, null, 'accept-rate-per-ip', 'accept-rate-per-ip']);
    expect(a.admit('1.1.1.1', 333)).toBe('accept-rate-per-ip');
    expect(a.admit('1.1.1.1', 334)).toBeNull();
  });

  it('reports refusals once per drain, keeps the totals, and forgets idle addresses', () => {
    const a = new Admission({ maxConnections: 1, maxConnectionsPerIp: 0, acceptRatePerIp: 0 });
    expect(a.admit('1.1.1.1', 0)).toBeNull();
    a.admit('2.2.2.2', 0);
    a.admit('2.2.2.2', 0);
    a.refuse('shutting-down');
    expect(a.drainRefusals(0)).toEqual({ 'max-connections': 2, 'shutting-down': 1 });
    expect(a.drainRefusals(0)).toEqual({});
    expect(a.refusedTotal).toEqual({ 'max-connections': 2, 'shutting-down': 1 });
    a.release('1.1.1.1');
    a.drainRefusals(10_000);
    // A released, forgotten address is admitted afresh.
    expect(a.admit('1.1.1.1', 10_000)).toBeNull();
  });
});
