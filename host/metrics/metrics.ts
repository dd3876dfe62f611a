/**
 * Every Prometheus metric of the broker (names live only here; issue #11 spells them out and they
 * are a contract). Names follow prometheus.io: the `plugbroker_` prefix, base units (seconds,
 * bytes) and `_total` on counters (prom-client prints counter names as given).
 *
 * Nothing is counted here on the message path: each metric's `collect()` reads plain counters
 * from the broker (`BrokerView`) at scrape time. The one exception is the plugin call histogram,
 * read from the sampled timings' plain counters (call-timings.ts). A collector that throws is logged and keeps its
 * previous values; the scrape goes on (issue #11: never fatal).
 */
import { opendir } from 'node:fs/promises';
import type { Logger } from 'pino';
import { PLUGIN_CALL_SAMPLE_EVERY } from '../limits.js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PluginHealth } from '../plugin/runtime/health.js';
import { CLOSE_REASONS } from '../plugin/world.js';
import type { BrokerView } from './broker-view.js';
import { CALL_BUCKETS_SECONDS, TIMED_EXPORTS } from './call-timings.js';
import { TRANSPORT_LABELS } from './transport-label.js';

/** Content type of `BrokerMetrics.scrape()` (Prometheus text format 0.0.4). */
export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** `plugbroker_plugin_health` states (host/plugin/health.ts). */
const HEALTH_STATES: readonly PluginHealth[] = ['ok', 'restarting', 'failed'];
/** Reasons of `plugbroker_frames_dropped_total` known ahead (reported as 0 until they happen). */
const DROP_REASONS: readonly string[] = ['rate-limited'];
/** Reasons of `plugbroker_connections_refused_total` (host/connection/admission.ts). */
const REFUSAL_REASONS: readonly string[] = ['max-connections', 'max-connections-per-ip', 'accept-rate-per-ip', 'shutting-down', 'plugin-failed'];
/** The broker's registry and its scrape. */
export interface BrokerMetrics {
  /** The broker's own metrics (Node's process metrics live in a registry shared by the process). */
  readonly registry: Registry;
  /** The Prometheus text of every metric. Never rejects: a failing collector is logged and skipped. */
  scrape(): Promise<string>;
  /** Stops feeding the call histogram. */
  close(): void;
}

/**
 * Creates the registry with every broker metric and Node's default process metrics
 * (`collectDefaultMetrics`: CPU, memory, heap, GC, event-loop lag, handles, file descriptors).
 */
export function createBrokerMetrics(view: BrokerView, log: Logger): BrokerMetrics {
  const registry = new Registry();
  const registers = [registry];

  new Gauge({
    name: 'plugbroker_connections',
    help: 'Client connections open now, by transport (tcp, tls, ws, wss).',
    labelNames: ['transport'],
    registers,
    collect() {
      const counts = view.connections();
      for (const t of TRANSPORT_LABELS) this.set({ transport: t }, counts[t]);
    },
  });
  new Counter({
    name: 'plugbroker_connections_opened_total',
    help: 'Client connections accepted and handed to the plugin.',
    registers,
    collect() {
      setCounter(this, view.connectionsOpened());
    },
  });
  new Counter({
    name: 'plugbroker_connections_closed_total',
    help: 'Client connections closed, by close reason (the WIT close-reason names).',
    labelNames: ['reason'],
    registers,
    collect() {
      setCounters(this, 'reason', CLOSE_REASONS, view.connectionsClosed());
    },
  });
  new Counter({
    name: 'plugbroker_connections_refused_total',
    help: 'Connections refused before reaching the plugin, by reason.',
    labelNames: ['reason'],
    registers,
    collect() {
      setCounters(this, 'reason', REFUSAL_REASONS, view.connectionsRefused());
    },
  });
  // The four traffic counters share one O(connections) sum per scrape.
  let traffic: ReturnType<BrokerView['traffic']> | undefined;
  const trafficNow = (): ReturnType<BrokerView['traffic']> => (traffic ??= view.traffic());
  for (const [name, help, field] of [
    ['plugbroker_frames_received_total', 'Frames received from clients (heartbeats included).', 'framesIn'],
    ['plugbroker_frames_sent_total', 'Frames queued for clients (heartbeats included).', 'framesOut'],
    ['plugbroker_bytes_received_total', 'Bytes read from clients, framing included.', 'bytesIn'],
    ['plugbroker_bytes_sent_total', 'Bytes written to clients, framing included.', 'bytesOut'],
  ] as const) {
    new Counter({
      name,
      help,
      registers,
      collect() {
        setCounter(this, trafficNow()[field]);
      },
    });
  }
  new Counter({
    name: 'plugbroker_frames_dropped_total',
    help: 'Frames dropped without reaching the plugin, by reason (rate-limited: --rate-action drop).',
    labelNames: ['reason'],
    registers,
    collect() {
      setCounters(this, 'reason', DROP_REASONS, view.framesDropped());
    },
  });
  registry.registerMetric(callDurationMetric(view) as unknown as Histogram);
  new Counter({
    name: 'plugbroker_plugin_restarts_total',
    help: 'Fresh plugin instances created after a failure (trap, timeout, fuel, memory cap).',
    registers,
    collect() {
      setCounter(this, view.plugin()?.restarts ?? 0);
    },
  });
  new Gauge({
    name: 'plugbroker_plugin_health',
    help: 'Plugin health: 1 for the current state (ok, restarting, failed), 0 for the others.',
    labelNames: ['state'],
    registers,
    collect() {
      const health = view.plugin()?.health ?? 'restarting';
      for (const s of HEALTH_STATES) this.set({ state: s }, s === health ? 1 : 0);
    },
  });
  new Gauge({
    name: 'plugbroker_plugin_memory_bytes',
    help: 'Linear memory of the current plugin instance (worker isolation: as of its last batch).',
    registers,
    collect() {
      this.set(view.plugin()?.memoryBytes ?? 0);
    },
  });
  new Gauge({
    name: 'plugbroker_groups',
    help: 'Non-empty groups.',
    registers,
    collect() {
      this.set(view.groupCount());
    },
  });
  new Counter({
    name: 'plugbroker_group_deliveries_total',
    help: 'Frames queued for group members by group sends (one per member reached).',
    registers,
    collect() {
      setCounter(this, view.groupDeliveries());
    },
  });
  new Gauge({
    name: 'plugbroker_upstream_node_up',
    help: 'Upstream nodes: 1 when the node takes new channels, 0 while it is ejected after a failure.',
    labelNames: ['service', 'node'],
    registers,
    collect() {
      this.reset();
      for (const svc of view.upstreams()) for (const n of svc.nodes) this.set({ service: n.service, node: n.node }, n.up ? 1 : 0);
    },
  });
  guardCollectors(registry, log);
  const processRegistry = processMetrics(log);

  return {
    registry,
    async scrape() {
      traffic = undefined;
      try {
        const own = await registry.metrics();
        // Two slices of work, not one: let I/O in between.
        await new Promise((resolve) => setImmediate(resolve));
        const proc = await processRegistry.metrics();
        return `${own}\n${proc}`;
      } finally {
        traffic = undefined;
      }
    },
    close() {
      // Nothing to stop: every metric reads the broker at scrape time.
    },
  };
}

/** One line of a metric as prom-client's registry formats it (`getMetricsAsJSON` prints the same shape). */
interface MetricValue {
  readonly metricName: string;
  readonly labels: Record<string, string | number>;
  readonly value: number;
}

/**
 * `plugbroker_plugin_call_duration_seconds`, built from `CallTimings`' bucket counters at scrape
 * time (why not a prom-client `Histogram`: call-timings.ts). A metric object as
 * `Registry.registerMetric` takes it (name, help, type, `get()`), printed by prom-client exactly as
 * its own histograms are: `_bucket{le,export}` cumulative, `+Inf`, `_sum`, `_count`.
 */
function callDurationMetric(view: BrokerView) {
  const name = 'plugbroker_plugin_call_duration_seconds';
  const help = `Duration of plugin calls, by export; sampled: one call in ${PLUGIN_CALL_SAMPLE_EVERY} is timed, and _count counts timed calls.`;
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get() {
      const values: MetricValue[] = [];
      for (const e of TIMED_EXPORTS) {
        const h = view.callTimings.histogram(e);
        CALL_BUCKETS_SECONDS.forEach((le, i) => values.push({ metricName: `${name}_bucket`, labels: { le, export: e }, value: h.cumulative[i] }));
        values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf', export: e }, value: h.count });
        values.push({ metricName: `${name}_sum`, labels: { export: e }, value: h.sumSeconds });
        values.push({ metricName: `${name}_count`, labels: { export: e }, value: h.count });
      }
      return { name, help, type: 'histogram', values, aggregator: 'sum' };
    },
  };
}

let processRegistry: Registry | undefined;

/**
 * Node's default metrics, one registry per process: `collectDefaultMetrics` starts an event-loop
 * delay monitor and a GC observer that cannot be stopped, so brokers created one after another in
 * a process (tests, a library user) share one set instead of leaking one each.
 */
function processMetrics(log: Logger): Registry {
  if (processRegistry === undefined) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
    replaceLinearMetrics(registry);
    guardCollectors(registry, log);
    processRegistry = registry;
  }
  return processRegistry;
}

/**
 * Five default metrics cost work in proportion to the open sockets on every scrape, measured here
 * at 10 000 connections: `nodejs_active_handles{,_total}` build an array of every handle object
 * (`process._getActiveHandles()`, deprecated) twice, 12–100 ms of blocking;
 * `nodejs_active_resources{,_total}` an array of every resource's name twice, 2–10 ms each;
 * `process_open_fds` lists `/proc/self/fd` with a synchronous `readdirSync` (the listing alone takes
 * 50–140 ms even asynchronously: the kernel walks the table). At 19 000 connections each would pass
 * the 10 ms stall or the 50 ms scrape budget (issue #11). So the handle and resource metrics go
 * (`plugbroker_connections` counts the sockets that matter), and `process_open_fds` is listed in the
 * background, asynchronously and in batches (`countOpenFds`), after each scrape: a scrape reports
 * the count of the previous one.
 */
function replaceLinearMetrics(registry: Registry): void {
  for (const name of ['nodejs_active_handles', 'nodejs_active_handles_total', 'process_open_fds', 'nodejs_active_resources', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
  if (process.platform !== 'linux') return;
  let openFds: number | undefined;
  let listing = false;
  const refresh = (): void => {
    if (listing) return;
    listing = true;
    countOpenFds().then(
      (n) => void ((openFds = n), (listing = false)),
      () => void (listing = false),
    );
  };
  refresh();
  new Gauge({
    name: 'process_open_fds',
    help: 'Number of open file descriptors (as of the previous scrape: listed in the background).',
    registers: [registry],
    collect() {
      if (openFds !== undefined) this.set(openFds);
      refresh();
    },
  });
}

/** Directory entries `countOpenFds` takes per read (one event-loop turn each). */
const FD_LIST_BATCH = 512;

/**
 * Counts `/proc/self/fd` with `opendir`, `FD_LIST_BATCH` entries per read: `readdir` hands back one
 * array of every name, built on the main thread in one go (19 000 strings at 19 000 sockets), which
 * was the longest piece of a scrape's event-loop time (bench/admin.js).
 */
async function countOpenFds(): Promise<number> {
  const dir = await opendir('/proc/self/fd', { bufferSize: FD_LIST_BATCH });
  let n = 0;
  for await (const _entry of dir) n++;
  // The listing itself holds one descriptor while it runs.
  return n - 1;
}

/** A counter's value is owned by the broker: report it as is (counters only grow there). */
function setCounter(counter: Counter, value: number): void {
  counter.reset();
  counter.inc(value);
}

/** A labelled counter: every known label value (0 until it happens), plus any other that occurred. */
function setCounters(counter: Counter, label: string, known: readonly string[], values: Partial<Record<string, number>>): void {
  counter.reset();
  for (const k of known) counter.inc({ [label]: k }, values[k] ?? 0);
  for (const [k, v] of Object.entries(values)) if (!known.includes(k) && v !== undefined) counter.inc({ [label]: k }, v);
}

/**
 * Wraps every collector of `registry` so that one that throws (or rejects) is logged and leaves its
 * metric as it was, instead of failing the whole scrape.
 */
export function guardCollectors(registry: Registry, log: Logger): void {
  for (const metric of registry.getMetricsAsArray() as unknown as Array<{ name: string; collect?: () => unknown }>) {
    const collect = metric.collect;
    if (typeof collect !== 'function') continue;
    const report = (err: unknown): void =>
      log.error({ err, metric: metric.name, code: 'PB_ERR_METRICS_COLLECT' }, 'metrics collector failed; its metric keeps its previous value');
    metric.collect = function guarded(this: unknown): unknown {
      try {
        const r = collect.call(this);
        return r instanceof Promise ? r.catch(report) : r;
      } catch (err) {
        report(err);
        return undefined;
      }
    };
  }
}
