// What the bench measures (scenarios) and how long (profiles).

/**
 * Load scenarios: each server is driven by the C load generator with `conns` connections keeping
 * `inflight` frames of `sizeBytes` body bytes in flight. The idle scenario holds connections open and
 * reads the server's RSS instead; its connection count comes from the profile.
 */
export const SCENARIOS = [
  { id: 's1', kind: 'load', title: '64 B × 100 conns × 32 in flight', conns: 100, inflight: 32, sizeBytes: 64 },
  { id: 's2', kind: 'load', title: '64 B × 1000 conns × 1 in flight', conns: 1000, inflight: 1, sizeBytes: 64 },
  { id: 's3', kind: 'load', title: '1 KiB × 100 conns × 8 in flight', conns: 100, inflight: 8, sizeBytes: 1024 },
  { id: 's4', kind: 'idle', title: 'idle connections: RSS per connection', sizeBytes: 64 },
  { id: 's5', kind: 'dispatch', title: 'dispatch: one handle-msg → channel-send round, 64 B, vs a plain JS function' },
];

/**
 * Full mode takes several interleaved rounds and reports medians. Quick mode must finish in well
 * under a minute: one round, short windows, fewer idle connections.
 * 19 000 idle connections stay under the 20 000 open files one process may hold here, on both ends.
 */
export const PROFILES = {
  full: { name: 'full', rounds: 5, warmupS: 1, measureS: 3, idleConns: 19000 },
  quick: { name: 'quick', rounds: 1, warmupS: 0.5, measureS: 1.5, idleConns: 2000 },
};
