/**
 * The cluster's Prometheus metrics (#12, docs/cluster.md): registered beside the broker's own
 * (metrics.ts) on the same registry, only when the broker is a cluster node. Like the others they
 * count nothing on the message path: each `collect()` reads the cluster node's plain counters at
 * scrape time. A collector that throws is logged and keeps its metric's previous value.
 */
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ClusterStats, ClusterStatus } from '../cluster/cluster.js';

/** What the cluster metrics read from a cluster node (`Cluster` implements it). */
export interface ClusterMetricsSource {
  /** Counters since start. */
  stats(): ClusterStats;
  /** Connection state and the other nodes known. */
  status(): ClusterStatus;
  /** Bytes published and not yet acknowledged by the NATS server (bounded: docs/cluster.md). */
  readonly unackedBytes: number;
  /** NATS subscriptions held (one per group with local members, plus the node's own few). */
  readonly subscriptionCount: number;
}

/** Counter name → the `ClusterStats` field it reports. Names are a contract (docs/cluster.md). */
const COUNTERS: ReadonlyArray<readonly [name: string, help: string, field: keyof ClusterStats]> = [
  ['plugbroker_cluster_group_sends_published_total', 'Group sends published to NATS (one per send that other nodes had members for).', 'groupSendsPublished'],
  ['plugbroker_cluster_group_sends_local_only_total', 'Group sends not published: no other node had members (as announced).', 'groupSendsLocalOnly'],
  [
    'plugbroker_cluster_sends_dropped_total',
    'Cross-node sends dropped, never queued: NATS unreachable, too much unacknowledged, or larger than NATS takes.',
    'sendsDropped',
  ],
  ['plugbroker_cluster_messages_received_total', 'Group messages received from other nodes.', 'remoteMessages'],
  ['plugbroker_cluster_remote_deliveries_total', 'Frames queued for local members by group messages from other nodes.', 'remoteDeliveries'],
  [
    'plugbroker_cluster_malformed_messages_total',
    "Messages on the cluster's subjects dropped as malformed (another tenant, another version).",
    'malformedDropped',
  ],
  ['plugbroker_cluster_nodes_lost_total', 'Other nodes dropped for silence (no presence within the timeout).', 'nodesLost'],
  ['plugbroker_cluster_reconnects_total', 'Times the NATS connection came back after being lost.', 'reconnects'],
];

/** Registers the cluster metrics of `source` on `registry`. */
export function registerClusterMetrics(registry: Registry, source: ClusterMetricsSource, log: Logger): void {
  const registers = [registry];
  const guard = (name: string, read: () => void): void => {
    try {
      read();
    } catch (err) {
      log.error({ err, metric: name, code: 'PB_ERR_METRICS_COLLECT' }, 'metrics collector failed; its metric keeps its previous value');
    }
  };
  for (const [name, help, field] of COUNTERS) {
    new Counter({
      name,
      help,
      registers,
      collect() {
        // A copy of eight numbers per counter: cheaper to read than to share across collectors.
        guard(name, () => {
          const value = source.stats()[field];
          this.reset();
          this.inc(value);
        });
      },
    });
  }
  new Gauge({
    name: 'plugbroker_cluster_connected',
    help: 'Whether the NATS connection is up (1) or being (re)established (0).',
    registers,
    collect() {
      guard('plugbroker_cluster_connected', () => this.set(source.status().state === 'connected' ? 1 : 0));
    },
  });
  new Gauge({
    name: 'plugbroker_cluster_nodes',
    help: 'Other nodes of the cluster known now (heard within their presence timeout).',
    registers,
    collect() {
      guard('plugbroker_cluster_nodes', () => this.set(source.status().nodes));
    },
  });
  new Gauge({
    name: 'plugbroker_cluster_unacked_bytes',
    help: 'Bytes published to NATS and not yet acknowledged by the server (past 64 MiB, cross-node sends are dropped).',
    registers,
    collect() {
      guard('plugbroker_cluster_unacked_bytes', () => this.set(source.unackedBytes));
    },
  });
  new Gauge({
    name: 'plugbroker_cluster_subscriptions',
    help: 'NATS subscriptions held: one per group with local members, plus the node’s own subjects.',
    registers,
    collect() {
      guard('plugbroker_cluster_subscriptions', () => this.set(source.subscriptionCount));
    },
  });
}
