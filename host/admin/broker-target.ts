/**
 * `createBrokerTarget`: the `AdminTarget` (and so the `BrokerView` of metrics) of one broker,
 * built over the parts of the broker it reads. Kept out of broker.ts so that the broker only hands
 * over its parts and its few actions.
 */
import type { Connection } from '../connection/connection.js';
import type { ConnectionRegistry } from '../connection/registry.js';
import type { CallTimings } from '../metrics/call-timings.js';
import type { PluginState, UpstreamServiceState } from '../metrics/broker-view.js';
import type { ClientTraffic } from '../metrics/traffic.js';
import type { PluginRuntime } from '../plugin/runtime/runtime.js';
import type { Router } from '../routing/router.js';
import type { Upstreams } from '../routing/upstreams.js';
import type { AdminTarget, BrokerPhase, ChannelEntry, ChannelRecord, DrainStarted, ListenerRecord } from './admin-target.js';
import { packageVersion } from './assets.js';

/** What the broker hands over. */
export interface BrokerParts {
  readonly startedAtMs: number;
  readonly clients: ClientTraffic<Connection>;
  readonly registry: ConnectionRegistry;
  readonly router: Router;
  readonly upstreams: Upstreams;
  readonly callTimings: CallTimings;
  runtime(): PluginRuntime | undefined;
  restarts(): number;
  phase(): BrokerPhase;
  listeners(): readonly ListenerRecord[];
  refused(): Partial<Record<string, number>>;
  framesDropped(): number;
  /** Closes a client connection with `closed-by-operator`. */
  closeByOperator(conn: Connection): void;
  reloadPlugin(path?: string): Promise<string>;
  drain(graceMs: number | undefined): DrainStarted;
}

export function createBrokerTarget(b: BrokerParts): AdminTarget {
  const clientOf = (id: number): Connection | undefined => {
    const conn = b.registry.get(id);
    return conn !== undefined && b.clients.has(conn) && (conn.state === 'open' || conn.state === 'connecting') ? conn : undefined;
  };
  return {
    version: packageVersion(),
    startedAtMs: b.startedAtMs,
    callTimings: b.callTimings,
    phase: b.phase,
    listeners: b.listeners,
    connections: () => b.clients.connections(),
    connectionsOpened: () => b.clients.openedTotal,
    connectionsClosed: () => b.clients.closedTotal(),
    connectionsRefused: b.refused,
    traffic: () => b.clients.totals(),
    framesDropped: () => ({ 'rate-limited': b.framesDropped() }),
    plugin(): PluginState | undefined {
      const rt = b.runtime();
      if (rt === undefined) return undefined;
      return {
        path: rt.spec.path,
        sha256: rt.spec.sha256,
        isolation: rt.isolation,
        health: rt.health,
        generation: rt.generation,
        memoryBytes: rt.memoryBytes,
        restarts: b.restarts(),
      };
    },
    groupCount: () => b.router.groupCount,
    groupDeliveries: () => b.router.groupDeliveries,
    upstreams: (): UpstreamServiceState[] =>
      b.upstreams.states().map((s) => ({ service: s.service, policy: s.policy, nodes: s.nodes.map((n) => ({ service: s.service, ...n })) })),
    *channelEntries(): Iterable<ChannelEntry> {
      for (const conn of b.clients.values()) if (conn.state === 'open' || conn.state === 'connecting') yield conn;
    },
    channelEntry: (id) => clientOf(id),
    describeChannel(entry: ChannelEntry): ChannelRecord {
      // Entries come from channelEntries/channelEntry: they are this broker's connections.
      const conn = entry as Connection;
      const peer = conn.peerInfo(false);
      return {
        id: conn.id,
        transport: b.clients.labelOf(conn) ?? 'tcp',
        peer: { address: peer.address, port: peer.port },
        connectedAt: new Date(conn.openedMs).toISOString(),
        framesIn: conn.framesIn,
        framesOut: conn.framesOut,
        bytesIn: conn.bytesIn,
        bytesOut: conn.bytesOut,
        groups: [...b.router.groupsOf(conn.id)].sort(),
        authenticated: conn.authenticated,
      };
    },
    groupMembers: (name) => b.router.groupMembers(name),
    groupEntries: () => b.router.groupMemberships(),
    closeChannel(id: number): boolean {
      const conn = clientOf(id);
      if (conn === undefined) return false;
      b.closeByOperator(conn);
      return true;
    },
    reloadPlugin: (path) => b.reloadPlugin(path),
    drain: (graceMs) => b.drain(graceMs),
  };
}
