/**
 * `Upstreams`: logical service name → nodes, and the channels the plugin opened to them. A plugin
 * asks for a service by name (`upstream-open`); the service's `Balancer` picks a node; the channel
 * is an ordinary `Connection` (same framing, limits, heartbeats and outbound batching as a client
 * connection) registered under a fresh handle, so `channel-send`, `channel-close`, groups,
 * `handle-msg` and `handle-broken` work on it unchanged. The plugin never sees an address.
 *
 * A node that refuses a connection, drops one, breaks the framing or stops answering heartbeats is
 * ejected (see balancer.ts); the channel ends with `handle-broken` and the plugin's next open goes
 * to another node. No plugin import here: frames and closes go to the broker's `ConnectionEvents`.
 */
import type { Logger } from 'pino';
import { Connection, type ConnectionEvents, type ConnectionPolicy } from '../connection/connection.js';
import type { OutboundArena } from '../connection/outbound-arena.js';
import type { ConnectionRegistry } from '../connection/registry.js';
import type { FrameError } from '../errors.js';
import { UPSTREAM_CONNECT_TIMEOUT_MS } from '../limits.js';
import type { CloseReason } from '../plugin/world.js';
import { connectTcp, type ConnectEvents } from '../transport/tcp-connect.js';
import type { Transport } from '../transport/transport.js';
import { Balancer, type BalancePolicy, type BalancerOptions, type UpstreamNode } from './balancer.js';

/** One service as configured. */
export interface UpstreamService {
  /** `nats`: a NATS queue group reached through the cluster (no nodes); absent: the broker connects to `nodes` over TCP. */
  readonly transport?: 'nats';
  readonly nodes: readonly UpstreamNode[];
  readonly policy: BalancePolicy;
}

/** What `Upstreams` needs from the broker. */
export interface UpstreamsDeps {
  readonly registry: ConnectionRegistry;
  /** Where frames and closes of upstream channels go (the broker: to the plugin). */
  readonly events: ConnectionEvents;
  /** Limits of upstream connections (the client limits without rate limits and auth gate). */
  readonly policy: ConnectionPolicy;
  readonly arena: OutboundArena;
  readonly log: Logger;
  readonly connectTimeoutMs?: number;
  readonly balancer?: BalancerOptions;
  /** Clock for ejections, ms. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * Opens a channel to a member of a NATS service (`transport: 'nats'`, #12): the cluster's
   * `openServiceChannel`. Absent without a cluster (config refuses NATS services then).
   */
  readonly dialNats?: (service: string, key: string, timeoutMs: number, events: ConnectEvents) => Transport;
}

/** The one pseudo-node of a NATS service: NATS picks the member, the balancer only tracks ejection. */
const NATS_NODE: readonly UpstreamNode[] = Object.freeze([Object.freeze({ host: 'nats', port: 0 })]);

/** Close reasons that count against the node: it refused, dropped, broke the framing or went silent. */
const NODE_FAILURES: ReadonlySet<CloseReason> = new Set(['peer-closed', 'protocol-error', 'heartbeat-timeout']);

/**
 * The upstream channels one plugin runtime opened: a trap restart closes its own channels
 * (`closeAll`), never those of another runtime (a hot swap runs two side by side).
 */
export class UpstreamScope {
  readonly #upstreams: Upstreams;
  /** @internal channels opened through this scope and still open */
  readonly channels = new Set<number>();

  constructor(upstreams: Upstreams) {
    this.#upstreams = upstreams;
  }

  /** `Upstreams.open`, remembering the channel as this scope's; `id`: a handle from `reserveHandle`. */
  open(service: string, key: string, id?: number): number {
    const opened = this.#upstreams.open(service, key, this, id);
    if (opened !== 0) this.channels.add(opened);
    return opened;
  }

  /** A handle set aside for a later `open(…, id)` (worker isolation: see worker-runtime.ts). */
  reserveHandle(): number {
    return this.#upstreams.reserveHandle();
  }

  /** Gives back a handle from `reserveHandle` that no channel took. */
  releaseHandle(id: number): void {
    this.#upstreams.releaseHandle(id);
  }

  /** Names of the configured services. */
  get services(): readonly string[] {
    return this.#upstreams.services;
  }

  /**
   * Closes this scope's channels without telling the plugin (the instance that opened them is
   * gone: a fresh one after a trap opens its own; a swapped-out one needs none).
   */
  closeAll(): void {
    for (const id of [...this.channels]) this.#upstreams.closeChannel(id);
  }
}

interface UpstreamChannel {
  readonly scope: UpstreamScope | null;
  readonly service: string;
  readonly balancer: Balancer;
  readonly node: number;
  /** A NATS service's channel: only a failure to find a member counts against the service. */
  readonly nats: boolean;
  connected: boolean;
}

export class Upstreams implements ConnectionEvents {
  readonly #services = new Map<string, Balancer>();
  readonly #channels = new Map<number, UpstreamChannel>();
  readonly #deps: UpstreamsDeps;
  readonly #now: () => number;
  #stopped = false;

  constructor(services: Readonly<Record<string, UpstreamService>>, deps: UpstreamsDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    for (const [name, svc] of Object.entries(services)) this.#services.set(name, new Balancer(nodesOf(svc), svc.policy, deps.balancer));
    this.#specs = new Map(Object.entries(services));
  }

  /**
   * Replaces the service table (a config reload): a service whose nodes or policy changed gets a
   * fresh balancer, a removed one opens no more channels, an unchanged one keeps its balancer (and
   * its ejections). Open channels stay on their node until they close.
   */
  setServices(services: Readonly<Record<string, UpstreamService>>): void {
    for (const name of [...this.#services.keys()]) if (!(name in services)) this.#services.delete(name);
    for (const [name, svc] of Object.entries(services)) {
      const same = this.#specs.get(name);
      if (same !== undefined && JSON.stringify(same) === JSON.stringify(svc) && this.#services.has(name)) continue;
      this.#services.set(name, new Balancer(nodesOf(svc), svc.policy, this.#deps.balancer));
    }
    this.#specs = new Map(Object.entries(services));
  }
  #specs = new Map<string, UpstreamService>();

  /**
   * Opens a channel to a node of `service`, chosen by its policy (`key` for consistent-hash).
   * Returns the channel handle at once (frames may be sent before the connection is up), or 0 when
   * the service is unknown, all its nodes are ejected, or the broker is stopping.
   * @param reservedId a handle from `reserveHandle` to open the channel under (released on failure).
   */
  open(service: string, key: string, scope: UpstreamScope | null = null, reservedId?: number): number {
    const balancer = this.#stopped ? undefined : this.#services.get(service);
    const node = balancer === undefined ? -1 : balancer.pick(key, this.#now());
    if (balancer === undefined || node === -1) {
      if (reservedId !== undefined) this.releaseHandle(reservedId);
      return 0;
    }
    const { host, port } = balancer.node(node);
    const nats = this.#specs.get(service)?.transport === 'nats';
    if (nats && this.#deps.dialNats === undefined) {
      if (reservedId !== undefined) this.releaseHandle(reservedId);
      return 0;
    }
    const id = reservedId ?? this.#deps.registry.allocateId();
    const entry: UpstreamChannel = { scope, service, balancer, node, nats, connected: false };
    const timeoutMs = this.#deps.connectTimeoutMs ?? UPSTREAM_CONNECT_TIMEOUT_MS;
    const events = {
      onConnected: () => {
        entry.connected = true;
        balancer.connected(node);
      },
    };
    const transport = nats ? this.#deps.dialNats!(service, key, timeoutMs, events) : connectTcp(host, port, timeoutMs, events);
    this.#channels.set(id, entry);
    balancer.opened(node);
    const conn = new Connection(id, transport, this, this.#deps.policy, this.#deps.arena);
    this.#deps.registry.add(conn);
    conn.open();
    this.#deps.log.debug({ connId: id, service, node: `${host}:${port}` }, 'upstream channel opened');
    return id;
  }

  /** A channel handle set aside for a later `open` (the registry allocates no connection under it meanwhile). */
  reserveHandle(): number {
    return this.#deps.registry.reserveId();
  }

  /** Gives back a handle from `reserveHandle`. */
  releaseHandle(id: number): void {
    this.#deps.registry.releaseId(id);
  }

  /** Names of the configured services. */
  get services(): readonly string[] {
    return [...this.#services.keys()];
  }

  /** The broker is shutting down: no new upstream channels (the open ones close with the others). */
  stop(): void {
    this.#stopped = true;
  }

  /** Whether `channel` is an upstream channel. */
  has(channel: number): boolean {
    return this.#channels.has(channel);
  }

  /** Open upstream channels. */
  get size(): number {
    return this.#channels.size;
  }

  /** Whether the node `index` of `service` is ejected now (for tests and status). */
  isEjected(service: string, index: number): boolean {
    return this.#services.get(service)?.isEjected(index, this.#now()) ?? false;
  }

  /** Open channels to the node `index` of `service`. */
  activeChannels(service: string, index: number): number {
    return this.#services.get(service)?.active(index) ?? 0;
  }

  /** Every service with the state of its nodes now (metrics and the admin API, #11). */
  states(): { service: string; policy: string; nodes: { node: string; up: boolean; activeChannels: number }[] }[] {
    const now = this.#now();
    return [...this.#services].map(([service, b]) => {
      const nodes = [];
      for (let i = 0; i < b.size; i++) {
        const { host, port } = b.node(i);
        nodes.push({ node: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`, up: !b.isEjected(i, now), activeChannels: b.active(i) });
      }
      return { service, policy: b.policy, nodes };
    });
  }

  /** A scope for the channels of one plugin runtime. */
  createScope(): UpstreamScope {
    return new UpstreamScope(this);
  }

  /** Closes upstream channel `id` without telling the plugin. */
  closeChannel(id: number): void {
    if (this.#channels.has(id)) this.#deps.registry.get(id)?.close('plugin-failed', false);
  }

  // ConnectionEvents of upstream connections: node bookkeeping, then the broker.
  onFrame(conn: Connection, body: Uint8Array): void {
    this.#deps.events.onFrame(conn, body);
  }

  onClosed(conn: Connection, reason: CloseReason, notifyPlugin: boolean): void {
    const entry = this.#channels.get(conn.id);
    if (entry !== undefined) {
      this.#channels.delete(conn.id);
      entry.scope?.channels.delete(conn.id);
      entry.balancer.closed(entry.node);
      // A NATS service's member that vanished leaves the others: only finding none counts.
      if (NODE_FAILURES.has(reason) && (!entry.nats || !entry.connected)) {
        const ejectedMs = entry.balancer.failed(entry.node, this.#now());
        if (ejectedMs > 0) {
          const { host, port } = entry.balancer.node(entry.node);
          this.#deps.log.warn(
            { service: entry.service, node: entry.nats ? 'nats' : `${host}:${port}`, reason, connected: entry.connected, ejectedMs },
            entry.connected ? 'upstream node dropped a connection: ejected' : 'upstream node refused a connection: ejected',
          );
        }
      }
    }
    this.#deps.events.onClosed(conn, reason, notifyPlugin);
  }

  onProtocolError(conn: Connection, err: FrameError): void {
    this.#deps.events.onProtocolError(conn, err);
  }

  onLimit(conn: Connection, what: 'rate-drop' | 'rate-close' | 'pre-auth-exceeded' | 'slow-consumer'): void {
    this.#deps.events.onLimit(conn, what);
  }

  onTransportClosed(): void {
    // Upstream connections were never admitted by the listener's caps: nothing to release.
  }
}

/** The balancer's nodes of a service: its TCP nodes, or the pseudo-node of a NATS service. */
function nodesOf(svc: UpstreamService): readonly UpstreamNode[] {
  return svc.transport === 'nats' ? NATS_NODE : svc.nodes;
}
