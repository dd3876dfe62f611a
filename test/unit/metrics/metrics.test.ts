import { pino, type Logger } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { BrokerView } from '../../../host/metrics/broker-view.js';
import { CallTimings } from '../../../host/metrics/call-timings.js';
import { createBrokerMetrics } from '../../../host/metrics/metrics.js';

/** A broker view with fixed values; `failing` names methods that throw (a broken collector). */
function fixedView(failing: ReadonlySet<string> = new Set()): BrokerView {
  const view: BrokerView = {
    connections: () => ({ tcp: 2, tls: 0, ws: 1, wss: 0 }),
    connectionsOpened: () => 7,
    connectionsClosed: () => ({ 'peer-closed': 4 }),
    connectionsRefused: () => ({ 'max-connections': 1 }),
    traffic: () => ({ framesIn: 10, framesOut: 11, bytesIn: 100, bytesOut: 110 }),
    framesDropped: () => ({ 'rate-limited': 3 }),
    plugin: () => ({ path: 'p.wasm', sha256: 'x', isolation: 'inline', health: 'ok', generation: 1, memoryBytes: 65536, restarts: 2 }),
    groupCount: () => 5,
    groupDeliveries: () => 50,
    upstreams: () => [{ service: 'logic', policy: 'round-robin', nodes: [{ service: 'logic', node: '127.0.0.1:7001', up: false, activeChannels: 0 }] }],
    callTimings: new CallTimings(1, 16),
  };
  for (const name of failing) {
    (view as unknown as Record<string, unknown>)[name] = () => {
      throw new Error(`${name} broke`);
    };
  }
  return view;
}

function capture(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { log: pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l)) }), lines };
}

/** The value of one sample line, e.g. `plugbroker_groups` or `plugbroker_connections{transport="ws"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('createBrokerMetrics', () => {
  it("reports the view's values under the names of issue #11", async () => {
    const { log } = capture();
    const view = fixedView();
    const m = createBrokerMetrics(view, log);
    view.callTimings.record('handle-msg', 2e-6);
    const text = await m.scrape();
    expect(sample(text, 'plugbroker_connections{transport="tcp"}')).toBe(2);
    expect(sample(text, 'plugbroker_connections{transport="ws"}')).toBe(1);
    expect(sample(text, 'plugbroker_connections_opened_total')).toBe(7);
    expect(sample(text, 'plugbroker_connections_closed_total{reason="peer-closed"}')).toBe(4);
    expect(sample(text, 'plugbroker_connections_closed_total{reason="closed-by-operator"}')).toBe(0);
    expect(sample(text, 'plugbroker_connections_refused_total{reason="max-connections"}')).toBe(1);
    expect(sample(text, 'plugbroker_frames_received_total')).toBe(10);
    expect(sample(text, 'plugbroker_frames_sent_total')).toBe(11);
    expect(sample(text, 'plugbroker_bytes_received_total')).toBe(100);
    expect(sample(text, 'plugbroker_bytes_sent_total')).toBe(110);
    expect(sample(text, 'plugbroker_frames_dropped_total{reason="rate-limited"}')).toBe(3);
    expect(sample(text, 'plugbroker_plugin_call_duration_seconds_count{export="handle-msg"}')).toBe(1);
    expect(sample(text, 'plugbroker_plugin_call_duration_seconds_count{export="handle-connect"}')).toBe(0);
    expect(sample(text, 'plugbroker_plugin_restarts_total')).toBe(2);
    expect(sample(text, 'plugbroker_plugin_health{state="ok"}')).toBe(1);
    expect(sample(text, 'plugbroker_plugin_health{state="failed"}')).toBe(0);
    expect(sample(text, 'plugbroker_plugin_memory_bytes')).toBe(65536);
    expect(sample(text, 'plugbroker_groups')).toBe(5);
    expect(sample(text, 'plugbroker_group_deliveries_total')).toBe(50);
    expect(sample(text, 'plugbroker_upstream_node_up{service="logic",node="127.0.0.1:7001"}')).toBe(0);
    expect(text).toContain('# TYPE plugbroker_connections_opened_total counter');
    expect(text).toContain('# TYPE plugbroker_plugin_call_duration_seconds histogram');
    expect(text).toMatch(/^process_cpu_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    m.close();
  });

  it.runIf(process.platform === 'linux')('reports process_open_fds, counted in the background in batches, as this process holds them', async () => {
    const { log } = capture();
    const m = createBrokerMetrics(fixedView(), log);
    const { readdirSync } = await import('node:fs');
    // The count comes from the listing made after the previous scrape: scrape until one is in.
    const fds = await vi.waitFor(
      async () => {
        // 0 until the first listing is in (a gauge never set reads 0).
        const n = sample(await m.scrape(), 'process_open_fds') ?? 0;
        expect(n).toBeGreaterThan(2);
        return n;
      },
      { timeout: 10_000, interval: 50 },
    );
    const now = readdirSync('/proc/self/fd').length - 1;
    expect(Math.abs(fds - now)).toBeLessThanOrEqual(8); // the test runner opens and closes a few meanwhile
  });

  it('logs a collector that throws and still answers every other metric', async () => {
    const { log, lines } = capture();
    const m = createBrokerMetrics(fixedView(new Set(['groupCount', 'upstreams'])), log);
    const text = await m.scrape();
    expect(sample(text, 'plugbroker_frames_received_total')).toBe(10);
    expect(sample(text, 'plugbroker_groups')).toBe(0); // never collected: its initial value
    const failures = lines.filter((l) => l.code === 'PB_ERR_METRICS_COLLECT').map((l) => l.metric);
    expect(failures.sort()).toEqual(['plugbroker_groups', 'plugbroker_upstream_node_up']);
    m.close();
  });
});
