/**
 * `Broker`: wires the listener, the connections, the plugin runtime and the router, and owns the
 * start/stop lifecycle.
 */
import { basename } from 'node:path';
import type { Logger } from 'pino';
import { planReload, resolveOptions, type BrokerOptions, type ReloadPlan, type ResolvedOptions } from './config.js';
import { Admission } from './connection/admission.js';
import { tickClock } from './connection/clock.js';
import { Connection, type ConnectionEvents, type ConnectionPolicy } from './connection/connection.js';
import { sweepHeartbeats, sweepIntervalMs, type HeartbeatPolicy } from './connection/heartbeat.js';
import { ConnectionRegistry } from './connection/registry.js';
import { OutboundArena } from './connection/outbound-arena.js';
import { CLOSE_LINGER_MS } from './limits.js';
import { ChannelDataStore } from './host-api/channel-data.js';
import { SessionRecorder } from './record/recorder.js';
import { recordingImports, RecordingRuntime } from './record/recording-runtime.js';
import { createBrokerHostImports } from './host-api/host-imports.js';
import { createLogger } from './log.js';
import { loadPlugin } from './plugin/load/loader.js';
import type { PluginSpec } from './plugin/load/plugin-spec.js';
import type { PluginHealth } from './plugin/runtime/health.js';
import { swapRuntime, type SwapResult } from './plugin/runtime/hot-swap.js';
import { createRuntime, type PluginRuntime, type RuntimeOwner } from './plugin/runtime/runtime.js';
import { createRuntimeServices } from './plugin/runtime/runtime-services.js';
import { closeReasonCode, worldFor, WIT_VERSION, type CloseReason, type PeerInfo } from './plugin/world.js';
import { RECORDING_FORMAT, RECORDING_VERSION } from './record/recording-format.js';
import { PluginChain } from './plugin/chain/plugin-chain.js';
import { isLive } from './connection/connection-state.js';
import { PluginWorldMismatchError } from './errors.js';
import { Router } from './routing/router.js';
import { TimerTable } from './routing/timers.js';
import { Upstreams, type UpstreamScope } from './routing/upstreams.js';
import type { AcceptGate } from './transport/accept-gate.js';
import { isSecureScheme, type ListenScheme } from './transport/listen-url.js';
import { openListener, type Listener } from './transport/listeners.js';
import { loadTlsCredentials, type TlsCredentials } from './transport/tls-credentials.js';
import { Cluster, type ClusterStats, type ClusterStatus } from './cluster/cluster.js';
import { processClusterIdentity } from './cluster/processes.js';
import type { RemoteNodeInfo } from './cluster/remote-membership.js';
import type { Transport } from './transport/transport.js';
import type { AdminTarget, BrokerPhase, DrainStarted, ListenerRecord } from './admin/admin-target.js';
import { startAdminServer, type AdminServer } from './admin/admin-server.js';
import { readAdminToken } from './admin/auth.js';
import { createBrokerTarget } from './admin/broker-target.js';
import { AdminRequestError } from './errors.js';
import { CallTimings } from './metrics/call-timings.js';
import { registerClusterMetrics } from './metrics/cluster-metrics.js';
import { createBrokerMetrics, type BrokerMetrics } from './metrics/metrics.js';
import { ClientTraffic } from './metrics/traffic.js';
import { transportLabel } from './metrics/transport-label.js';

/** One bound listener, as `Broker.listeners` reports it. */
export interface ListenerInfo {
  /** The listener's URL with the port actually bound (`ws://127.0.0.1:40123/chat`). */
  readonly url: string;
  readonly scheme: ListenScheme;
  readonly host: string;
  readonly port: number;
}

/** Counters of what happened since start. */
export interface BrokerStats {
  /** TCP connections accepted by the listeners (before any handshake or cap). */
  accepted: number;
  /** Connections live now. */
  live: number;
  /** Frames delivered to the plugin. */
  framesIn: number;
  /** Connections closed for each reason. */
  closed: Partial<Record<CloseReason, number>>;
  /** Plugin traps. */
  pluginTraps: number;
  /** Frames dropped by the rate limiter (`rateAction: 'drop'`). */
  framesDropped: number;
  /** Connections refused before reaching the plugin, by reason. */
  refused: Partial<Record<string, number>>;
  /** Cluster counters (cross-node sends published and dropped, malformed messages, …); absent without `cluster`. */
  cluster?: ClusterStats;
}

/** A running broker. Create with `createBroker`. */
export class Broker {
  #options: ResolvedOptions;
  readonly log: Logger;
  readonly #registry = new ConnectionRegistry();
  readonly #router = new Router(this.#registry);
  readonly #arena = new OutboundArena();
  /** What plugins stored with `channel-set-data`: outlives every runtime (traps, hot swaps), dies with each channel. */
  readonly #channelData = new ChannelDataStore();
  /** Timers of each plugin runtime (the running one, and one being swapped in or out). */
  readonly #timerTables = new Map<PluginRuntime, TimerTable>();
  /** Upstream channels of each plugin runtime, likewise. */
  readonly #upstreamScopes = new Map<PluginRuntime, UpstreamScope>();
  #runtime: PluginRuntime | undefined;
  /** With filters (`plugin` a list): the chain, whose last link is `#runtime` (the application). */
  #chain: PluginChain | undefined;
  #listeners: Listener[] = [];
  /** Admission at TCP accept, for every listener. */
  readonly #gate: AcceptGate = {
    admit: (ip) => this.#admit(ip),
    release: (ip) => this.#admission.release(ip),
    refuse: (reason) => this.#admission.refuse(reason),
  };
  /** Certificate and key of the tls:// and wss:// listeners, read once (resolveOptions checked them). */
  readonly #tls: TlsCredentials | undefined;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  readonly #stats: BrokerStats = { accepted: 0, live: 0, framesIn: 0, closed: {}, pluginTraps: 0, framesDropped: 0, refused: {} };
  #policy: ConnectionPolicy;
  readonly #heartbeat: HeartbeatPolicy;
  readonly #admission: Admission;
  readonly #upstreams: Upstreams;
  /** The cluster this broker is a node of (`cluster` option), else undefined. */
  readonly #cluster: Cluster | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  // Operations (#11): client connections and their counters, plugin call timings, lifecycle
  // phase, the admin listener and the close summary line.
  readonly #clients = new ClientTraffic<Connection>();
  readonly #callTimings = new CallTimings();
  readonly #startedAtMs = Date.now();
  #restarts = 0;
  /** `--record`: opened with the first runtime, closed at stop. */
  #recorder: SessionRecorder | undefined;
  #phase: BrokerPhase = 'starting';
  #target: AdminTarget | undefined;
  #metrics: BrokerMetrics | undefined;
  #admin: AdminServer | undefined;
  #listenerClosed: Promise<void> | undefined;
  #drainTimer: NodeJS.Timeout | undefined;
  #closeSummary: Partial<Record<CloseReason, number>> = {};
  #closeSummaryTimer: NodeJS.Timeout | undefined;
  #stopped!: () => void;
  readonly #whenStopped = new Promise<void>((resolve) => (this.#stopped = resolve));

  /** Validates options (unless `resolveOptions` made them); nothing is opened until `start`. */
  constructor(opts: BrokerOptions | ResolvedOptions) {
    this.#options = resolveOptions(opts);
    this.log = this.options.logger ?? createLogger({ level: this.options.logLevel });
    const o = this.options;
    this.#policy = Object.freeze({
      maxFrameBytes: o.maxFrameBytes,
      maxOutboundBytes: o.maxOutboundBytes,
      closeLingerMs: CLOSE_LINGER_MS,
      rateFrames: o.rateFrames,
      rateBytes: o.rateBytes,
      rateBurst: o.rateBurst,
      rateAction: o.rateAction,
      authRequired: o.authDeadlineMs > 0,
      preAuthMaxFrames: o.preAuthMaxFrames,
      preAuthMaxBytes: o.preAuthMaxBytes,
    });
    this.#tls = o.listen.some((l) => isSecureScheme(l.scheme)) ? loadTlsCredentials(o.tlsCert!, o.tlsKey!) : undefined;
    this.#heartbeat = Object.freeze({ pingIntervalMs: o.pingIntervalMs, idleTimeoutMs: o.idleTimeoutMs, authDeadlineMs: o.authDeadlineMs });
    this.#admission = new Admission({ maxConnections: o.maxConnections, maxConnectionsPerIp: o.maxConnectionsPerIp, acceptRatePerIp: o.acceptRatePerIp });
    // Upstream channels: the client framing and size limits, but no rate limit or auth gate (the
    // broker chose to talk to these nodes).
    const upstreamPolicy = Object.freeze({ ...this.#policy, rateFrames: 0, rateBytes: 0, authRequired: false });
    this.#upstreams = new Upstreams(o.upstream, {
      registry: this.#registry,
      events: this.#hooks,
      policy: upstreamPolicy,
      arena: this.#arena,
      log: this.log,
      // NATS services (#12) are reached through the cluster, created just below.
      dialNats: o.cluster.length === 0 ? undefined : (service, key, timeoutMs, events) => this.#cluster!.openServiceChannel(service, key, timeoutMs, events),
    });
    if (o.cluster.length > 0) {
      const identity = processClusterIdentity(o.nodeId);
      this.#cluster = new Cluster(
        {
          servers: o.cluster,
          nodeId: identity.nodeId,
          clusterName: o.clusterName,
          presenceIntervalMs: o.clusterPresenceIntervalMs,
          maxFrameBytes: o.maxFrameBytes,
          replaces: identity.clusterReplacesNode,
        },
        this.#router,
        this.log,
      );
      this.#router.attachCluster(this.#cluster);
    }
  }

  /** The cluster node's name, id, NATS connection state and the other nodes known; undefined without `cluster`. */
  get clusterStatus(): ClusterStatus | undefined {
    return this.#cluster?.status();
  }

  /** The other nodes of the cluster as this one knows them (empty without `cluster`). */
  clusterNodes(): RemoteNodeInfo[] {
    return this.#cluster?.nodes() ?? [];
  }

  /** The options the broker runs with (`reconfigure` may change the reloadable ones). */
  get options(): ResolvedOptions {
    return this.#options;
  }

  /**
   * Applies a new configuration (SIGHUP with a config file) as far as a running broker can, by each
   * option's reload class (host/config/schema.ts): `live` options now — log level, rate limits and
   * connection caps for connections accepted from now on, upstream services for channels opened
   * from now on; `swap` options (plugin, pluginConfig) with the next `reloadPlugin()`; `restart`
   * options not at all (they keep their running value; the plan lists them).
   * @throws {InvalidOptionError | UnknownOptionError} when `opts` is invalid; nothing changes then.
   */
  reconfigure(opts: BrokerOptions | ResolvedOptions): ReloadPlan {
    const plan = planReload(this.#options, resolveOptions(opts));
    const o = (this.#options = plan.next);
    if (plan.live.includes('logLevel') && o.logger === undefined) this.log.level = o.logLevel;
    this.#policy = Object.freeze({ ...this.#policy, rateFrames: o.rateFrames, rateBytes: o.rateBytes, rateBurst: o.rateBurst, rateAction: o.rateAction });
    this.#admission.setPolicy({ maxConnections: o.maxConnections, maxConnectionsPerIp: o.maxConnectionsPerIp, acceptRatePerIp: o.acceptRatePerIp });
    if (plan.live.includes('upstream')) this.#upstreams.setServices(o.upstream);
    return plan;
  }

  /** Address the listener is bound to (after `start`). */
  get address(): { host: string; port: number } {
    const first = this.#listeners[0];
    if (first === undefined) throw new Error('broker is not started');
    return first.address;
  }

  /** Every bound listener, in the order they were given (after `start`). */
  get listeners(): readonly ListenerInfo[] {
    return this.#listeners.map((l) => ({ url: l.url, scheme: l.spec.scheme, host: l.address.host, port: l.address.port }));
  }

  /** Plugin health (with a chain: the worst of its plugins). */
  get pluginHealth(): PluginHealth {
    if (this.#runtime === undefined) return 'restarting';
    return this.#chain?.health ?? this.#runtime.health;
  }

  /** Linear memory of the current plugin instance, in bytes. */
  get pluginMemoryBytes(): number {
    return this.#runtime?.memoryBytes ?? 0;
  }

  /** Address the admin listener is bound to (after `start`), or undefined without `adminListen`. */
  get adminAddress(): { host: string; port: number } | undefined {
    return this.#admin?.address;
  }

  /** What metrics and the admin API read (and the operator actions they take). */
  get view(): AdminTarget {
    return (this.#target ??= this.#createTarget());
  }

  /** The Prometheus text of every metric (what `GET /metrics` answers). */
  scrapeMetrics(): Promise<string> {
    this.#metrics ??= this.#createMetrics();
    return this.#metrics.scrape();
  }

  /** Resolves once the broker has stopped (by `stop()`, a signal, or the end of a drain). */
  whenStopped(): Promise<void> {
    return this.#whenStopped;
  }

  /** A copy of the counters. */
  stats(): BrokerStats {
    const out: BrokerStats = { ...this.#stats, live: this.#registry.size, closed: { ...this.#stats.closed }, refused: { ...this.#admission.refusedTotal } };
    if (this.#cluster !== undefined) out.cluster = this.#cluster.stats();
    return out;
  }

  /**
   * Loads and starts the plugin, then binds the listener.
   * @throws {PluginLoadError | PluginNotComponentError | PluginWorldMismatchError | PluginForbiddenImportError}
   * @throws {PluginStartError} when the plugin's `start` refuses.
   * @throws {ListenError}
   */
  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    // Read first: a missing token file stops the start before anything loads or listens.
    const adminToken = this.options.adminListen === undefined ? undefined : await readAdminToken(this.options);
    const paths = pluginPaths(this.options.plugin);
    const spec = await loadPlugin(paths[paths.length - 1], { memoryMaxMb: this.options.pluginMemoryMaxMb, callFuel: this.options.pluginCallFuel });
    if (paths.length > 1) await this.#startChain(paths);
    const runtime = await this.#createRuntime(spec);
    this.#chain?.setLink(this.#chain.length - 1, runtime);
    try {
      await runtime.start();
    } catch (err) {
      await this.#chain?.stop();
      throw err;
    }
    this.#runtime = runtime;
    // Joining never waits for NATS: local clients are served while it connects (docs/cluster.md).
    this.#cluster?.start();
    try {
      await this.#startAdmin(adminToken);
      const o = this.options;
      for (const spec of o.listen) {
        const listener = await openListener(spec, {
          gate: this.#gate,
          onTransport: (t) => this.#accept(t),
          onError: (err) => this.log.error({ err, listener: spec.scheme }, 'listener error'),
          backlog: o.listenBacklog,
          handshakeTimeoutMs: o.handshakeTimeoutMs,
          tls: this.#tls,
          wsCompression: o.wsCompression,
          wsAllowedOrigins: o.wsAllowedOrigins,
          maxFrameBytes: o.maxFrameBytes,
        });
        this.#listeners.push(listener);
      }
    } catch (err) {
      await this.#closeListeners();
      await this.#admin?.close();
      await (this.#chain ?? runtime).stop();
      this.#recorder?.close();
      await this.#cluster?.stop();
      throw err;
    }
    this.#sweeper = setInterval(() => this.#sweep(), sweepIntervalMs(this.#heartbeat));
    this.#sweeper.unref();
    if (this.options.closeSummaryIntervalMs > 0) {
      this.#closeSummaryTimer = setInterval(() => this.#logCloseSummary(), this.options.closeSummaryIntervalMs);
      this.#closeSummaryTimer.unref();
    }
    if (this.#phase === 'starting') this.#phase = 'serving';
    this.log.info(
      {
        host: this.#listeners[0].address.host,
        port: this.#listeners[0].address.port,
        listeners: this.#listeners.map((l) => l.url),
        plugin: spec.path,
        sha256: spec.sha256,
        stringEncoding: spec.stringEncoding,
        cluster: this.#cluster?.status(),
      },
      'listening',
    );
  }

  /** Heartbeats, idle and auth deadlines, and the refusal summary: once per tick, no timer per connection. */
  #sweep(): void {
    const now = tickClock();
    sweepHeartbeats(this.#registry.values(), now, this.#heartbeat);
    const refused = this.#admission.drainRefusals(now);
    if (Object.keys(refused).length > 0) this.log.warn({ refused }, 'refused connections');
  }

  /**
   * Drains and stops: no new connections, no more reading; queued frames get up to
   * `drainTimeoutMs` to reach their peers; then `handle-broken(shutdown)` for every channel, the
   * plugin's `stop()`, and every socket closed. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    // A stop requested during start-up waits for the start to finish (or fail) first.
    await this.#starting?.catch(() => {});
    this.#phase = 'stopping';
    clearTimeout(this.#drainTimer);
    const closed = this.#listenerClosed ?? this.#closeListeners();
    clearInterval(this.#sweeper);
    this.#upstreams.stop();
    const conns = this.#registry.list();
    this.log.info({ connections: conns.length, drainTimeoutMs: this.options.drainTimeoutMs }, 'draining');
    for (const conn of conns) conn.stopReading();
    const flushed = await this.#waitFlushed(conns, this.options.drainTimeoutMs);
    if (!flushed) this.log.warn({ drainTimeoutMs: this.options.drainTimeoutMs }, 'drain timeout: closing channels with unsent frames');
    for (const conn of conns) conn.close('shutdown');
    this.#dropTimers();
    await (this.#chain ?? this.#runtime)?.stop();
    this.#recorder?.close();
    // After the local channels: the others drop this node's memberships on its bye.
    await this.#cluster?.stop();
    if (closed !== undefined) await withTimeout(closed, CLOSE_LINGER_MS + 100);
    clearInterval(this.#closeSummaryTimer);
    this.#logCloseSummary();
    await this.#admin?.close();
    this.#metrics?.close();
    this.#phase = 'stopped';
    this.log.info(this.stats(), 'stopped');
    this.#stopped();
  }

  /**
   * Lame duck (admin `POST /api/v1/drain`): the listener stops accepting and readiness turns 503;
   * open connections keep being served until `graceMs` passes (default `drainTimeoutMs`) or they
   * have all closed; then the broker stops as `stop()` does (`handle-broken(shutdown)` for those
   * left). Returns at once.
   * @throws {AdminRequestError} 409 when the broker is not serving (starting, draining or stopping).
   */
  drain(graceMs: number = this.options.drainTimeoutMs): DrainStarted {
    if (this.#phase !== 'serving') throw new AdminRequestError('PB_ERR_ADMIN_CONFLICT', 409, `the broker is ${this.#phase}, not serving: nothing to drain`);
    this.#phase = 'draining';
    this.#listenerClosed = this.#closeListeners();
    const connections = this.#clients.size;
    this.log.info({ graceMs, connections }, 'draining: no new connections; open ones stay until the grace ends');
    if (connections === 0) setImmediate(() => void this.stop());
    else this.#drainTimer = setTimeout(() => void this.stop(), graceMs);
    return { graceMs, connections };
  }

  /** The broker's metrics, with the cluster's (host/metrics/cluster-metrics.ts) when it is a cluster node. */
  #createMetrics(): BrokerMetrics {
    const metrics = createBrokerMetrics(this.view, this.log);
    if (this.#cluster !== undefined) registerClusterMetrics(metrics.registry, this.#cluster, this.log);
    return metrics;
  }

  /** Starts the admin listener when `adminListen` is set. */
  async #startAdmin(token: string | undefined): Promise<void> {
    const listen = this.options.adminListen;
    if (listen === undefined) return;
    this.#metrics ??= this.#createMetrics();
    this.#admin = await startAdminServer({
      host: listen.host,
      port: listen.port,
      token,
      target: this.view,
      metrics: this.#metrics,
      log: this.log,
    });
    this.log.info({ host: this.#admin.address.host, port: this.#admin.address.port, token: token !== undefined }, 'admin listening');
  }

  #createTarget(): AdminTarget {
    return createBrokerTarget({
      startedAtMs: this.#startedAtMs,
      clients: this.#clients,
      registry: this.#registry,
      router: this.#router,
      upstreams: this.#upstreams,
      callTimings: this.#callTimings,
      runtime: () => this.#runtime,
      restarts: () => this.#restarts,
      phase: () => this.#phase,
      listeners: (): ListenerRecord[] =>
        this.#phase !== 'serving' ? [] : this.#listeners.map((l) => ({ transport: l.spec.scheme, host: l.address.host, port: l.address.port })),
      refused: () => ({ ...this.#admission.refusedTotal }),
      framesDropped: () => this.#stats.framesDropped,
      closeByOperator: (conn) => conn.close('closed-by-operator'),
      reloadPlugin: async (path) => this.reloadPlugin(path),
      drain: (graceMs) => this.drain(graceMs),
    });
  }

  /** One info line with the client connections closed since the last one, by reason (none: no line). */
  #logCloseSummary(): void {
    const closed = this.#closeSummary;
    if (Object.keys(closed).length === 0) return;
    this.#closeSummary = {};
    this.log.info({ closed, intervalMs: this.options.closeSummaryIntervalMs }, 'closed connections');
  }

  /** Resolves true once no connection has outbound bytes left, false at the deadline. */
  async #waitFlushed(conns: readonly Connection[], deadlineMs: number): Promise<boolean> {
    // Polling is fine here: it runs once per shutdown, and 'drain' events do not fire for sockets
    // that never filled their buffer.
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      if (conns.every((c) => c.state !== 'open' || c.outboundBytes === 0)) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * A TCP connection arrived on any listener, before any handshake: the caps decide here. Refused
   * sockets are destroyed by the listener and counted; #sweep logs one summary line per tick.
   */
  #admit(ip: string): boolean {
    this.#stats.accepted++;
    if (this.#stopping !== undefined) {
      this.#admission.refuse('shutting-down');
      return false;
    }
    if (this.#runtime === undefined || this.pluginHealth !== 'ok') {
      this.#admission.refuse('plugin-failed');
      return false;
    }
    return this.#admission.admit(ip, tickClock()) === null;
  }

  /** Stops every listener (idempotent per call site: stop and drain each call it once). */
  #closeListeners(): Promise<void> {
    return Promise.all(this.#listeners.map((l) => l.close())).then(() => {});
  }

  /** An admitted connection finished its handshakes (TLS, WebSocket upgrade): it becomes a channel. */
  #accept(transport: Transport): void {
    const runtime = this.#runtime;
    // A handshake takes time: the broker may have started stopping, or the plugin failed, meanwhile.
    if (this.#stopping !== undefined || runtime === undefined || this.pluginHealth !== 'ok') {
      this.#admission.refuse(this.#stopping !== undefined ? 'shutting-down' : 'plugin-failed');
      transport.destroy();
      return;
    }
    const conn = new Connection(this.#registry.allocateId(), transport, this.#hooks, this.#policy, this.#arena);
    this.#registry.add(conn);
    const peer = conn.peerInfo(false);
    this.#clients.opened(conn, transportLabel(peer));
    const chain = this.#chain;
    if (chain !== undefined) {
      const accepted = chain.handleConnect(conn.id, peer);
      if (conn.state !== 'connecting') return; // a plugin of the chain failed or closed it already
      if (accepted !== false) conn.open();
      else conn.close('refused-by-plugin');
      return;
    }
    const generation = runtime.generation;
    const accepted = runtime.handleConnect(conn.id, peer);
    if (runtime.generation !== generation) return; // trapped: already closed as plugin-failed
    // undefined: worker isolation answers later (onConnectDecided); frames queue behind the connect.
    if (accepted !== false) conn.open();
    else conn.close('refused-by-plugin');
  }

  /**
   * Loads and starts the filters of a plugin chain (every path but the last); the application is
   * started by the caller as the chain's last link. Filters run inline (plugin-chain.ts).
   * @throws {PluginWorldMismatchError} when a plugin in front of another is not a filter.
   */
  async #startChain(paths: readonly string[]): Promise<void> {
    const chain = new PluginChain(paths.length, {
      isLive: (channel) => {
        const conn = this.#registry.get(channel);
        return conn !== undefined && isLive(conn.state);
      },
      close: (channel, reason) => this.#registry.get(channel)?.close(reason),
      groupSize: (group) => this.#router.groupSize(group),
      owner: this.#hooks,
      countFailure: () => this.#stats.pluginTraps++,
      log: this.log.child({ chain: paths.length }),
      maxFrameBytes: this.options.maxFrameBytes,
    });
    this.#chain = chain;
    try {
      for (let i = 0; i < paths.length - 1; i++) {
        const spec = await loadPlugin(paths[i], { memoryMaxMb: this.options.pluginMemoryMaxMb, callFuel: this.options.pluginCallFuel });
        if (spec.filter !== true) {
          throw new PluginWorldMismatchError(
            paths[i],
            `${paths[i]} is not a filter (world filter: it exports no handle-send), so it cannot sit in front of ${paths[i + 1]}: only the last --plugin may be a plain plugin`,
          );
        }
        const runtime = await this.#createRuntime(spec, i);
        chain.setLink(i, runtime);
        await runtime.start();
      }
    } catch (err) {
      for (const link of chain.links) await link?.stop();
      this.#chain = undefined;
      throw err;
    }
  }

  /**
   * A runtime for `spec` with this broker's isolation, failure policy and host interface. `link`:
   * its place in the plugin chain (filters run inline; the last link is the application).
   */
  async #createRuntime(spec: PluginSpec, link?: number): Promise<PluginRuntime> {
    const log = this.log.child({ plugin: spec.name });
    // Each runtime has its own timers: they fire into it, and go when it is swapped out or stopped.
    let runtime: PluginRuntime | undefined;
    const timers = new TimerTable((token, arm) => runtime?.handleTimer(token, arm));
    const upstreamScope = this.#upstreams.createScope();
    const router = this.#router;
    const chain = this.#chain;
    const index = link ?? (chain === undefined ? 0 : chain.length - 1);
    const isFilter = chain !== undefined && index < chain.length - 1;
    // Filters keep their own channel data; the application (or a lone plugin) the broker's.
    const channelData = isFilter ? chain.dataOf(index) : this.#channelData;
    // --record records the application plugin (behind any filters): what it saw and did.
    const recorder = isFilter ? undefined : this.#openRecorder(spec);
    const imports = createBrokerHostImports({
      router,
      logger: log,
      timers,
      upstreams: upstreamScope,
      maxFrameBytes: this.options.maxFrameBytes,
      timed: spec.timed,
      channelData,
      maxChannelDataBytes: this.options.channelDataMaxBytes,
    });
    const linkImports = chain === undefined ? imports : chain.importsFor(index, imports);
    runtime = await createRuntime(isFilter ? 'inline' : this.options.isolation, {
      spec,
      imports: recorder === undefined ? linkImports : recordingImports(linkImports, recorder),
      services: createRuntimeServices({ router, timers, upstreams: upstreamScope, cluster: this.#cluster, channelData }),
      config: this.options.pluginConfig,
      log,
      owner: chain === undefined ? this.#hooks : chain.ownerFor(index),
      failurePolicy: this.options.onPluginFailure,
      callBudgetMs: this.options.pluginCallBudgetMs,
      maxFrameBytes: this.options.maxFrameBytes,
      maxOutboundBytes: this.options.maxOutboundBytes,
      maxChannelDataBytes: this.options.channelDataMaxBytes,
      callTimings: this.#callTimings,
    });
    // --record: every event goes through the recording decorator (absent otherwise: no cost).
    if (recorder !== undefined) runtime = new RecordingRuntime(runtime, recorder);
    this.#timerTables.set(runtime, timers);
    this.#upstreamScopes.set(runtime, upstreamScope);
    return runtime;
  }

  /** The `--record` recorder (opened, with its header, for the first runtime); undefined when off. */
  #openRecorder(spec: PluginSpec): SessionRecorder | undefined {
    const o = this.options;
    if (o.record === undefined) return undefined;
    if (this.#recorder === undefined) {
      this.#recorder = new SessionRecorder({ file: o.record, maxBytes: o.recordMaxBytes, omitPayloads: o.recordOmitPayloads });
      this.#recorder.header({
        format: RECORDING_FORMAT,
        version: RECORDING_VERSION,
        world: `plugbroker:plugin/${worldFor(spec.stateful, spec.timed)}@${WIT_VERSION}`,
        plugin: basename(spec.path),
        sha256: spec.sha256,
        isolation: o.isolation,
      });
    }
    return this.#recorder;
  }

  /**
   * Hot swap (SIGHUP): loads and validates `path` (default: the plugin path it was started with),
   * starts it, and moves every live channel to it; no connection is dropped. When the old and the
   * new plugin are both stateful (`snapshot`/`restore`), the state is carried over; otherwise the
   * new instance gets `handle-connect(resumed)` for every live channel. Also brings a `failed`
   * plugin back. Reloads run one at a time.
   * @throws {PluginLoadError | PluginNotComponentError | PluginWorldMismatchError | PluginForbiddenImportError | PluginStartError}
   *   the new plugin was refused; the old one keeps serving.
   */
  reloadPlugin(path: string = pluginPaths(this.options.plugin).at(-1)!): Promise<SwapResult> {
    const run = (): Promise<SwapResult> => this.#reload(path);
    const next = (this.#reloading ?? Promise.resolve()).then(run, run);
    this.#reloading = next.catch(() => undefined);
    return next;
  }
  #reloading: Promise<unknown> | undefined;

  async #reload(path: string): Promise<SwapResult> {
    if (this.#stopping !== undefined || this.#runtime === undefined) throw new Error('broker is not serving');
    const t0 = performance.now();
    let next: PluginRuntime;
    try {
      const spec = await loadPlugin(path, { memoryMaxMb: this.options.pluginMemoryMaxMb, callFuel: this.options.pluginCallFuel });
      next = await this.#createRuntime(spec);
      await next.start();
    } catch (err) {
      for (const r of [...this.#timerTables.keys()]) if (r !== this.#runtime) this.#dropTimers(r);
      for (const [r, scope] of [...this.#upstreamScopes]) {
        if (r === this.#runtime) continue;
        scope.closeAll();
        this.#upstreamScopes.delete(r);
      }
      this.log.error({ code: (err as { code?: string }).code, err, path }, 'plugin reload refused; the running plugin keeps serving');
      throw err;
    }
    const old = this.#runtime;
    this.#runtime = next;
    // In a chain only the application is swapped; the filters keep running.
    this.#chain?.setLink(this.#chain.length - 1, next);
    const result = swapRuntime(old, next, this.#chain?.ownerFor(this.#chain.length - 1) ?? this.#hooks);
    this.#dropTimers(old);
    // The new instance never knew the old one's upstream channels (they are not replayed): close them.
    this.#upstreamScopes.get(old)?.closeAll();
    this.#upstreamScopes.delete(old);
    this.log.info(
      { plugin: next.spec.path, sha256: next.spec.sha256, carried: result, connections: this.#registry.size, ms: Math.round(performance.now() - t0) },
      'plugin reloaded',
    );
    return result;
  }

  /** Cancels the timers of `runtime` (default: every runtime's) and forgets them. */
  #dropTimers(runtime?: PluginRuntime): void {
    for (const [r, table] of this.#timerTables) {
      if (runtime !== undefined && r !== runtime) continue;
      table.clear();
      this.#timerTables.delete(r);
    }
  }

  /**
   * The broker's side of its connections and plugin runtimes: internal callbacks, kept off the
   * public `Broker` API.
   */
  readonly #hooks: ConnectionEvents & RuntimeOwner = {
    // ConnectionEvents
    onFrame: (conn, body) => {
      this.#stats.framesIn++;
      if (this.#chain !== undefined) this.#chain.handleMsg(conn.id, body);
      else this.#runtime!.handleMsg(conn.id, body);
    },
    onClosed: (conn, reason, notifyPlugin) => {
      this.#registry.delete(conn.id);
      this.#router.channelEnded(conn.id);
      this.#stats.closed[reason] = (this.#stats.closed[reason] ?? 0) + 1;
      if (this.#clients.has(conn)) {
        this.#clients.ended(conn, reason);
        this.#closeSummary[reason] = (this.#closeSummary[reason] ?? 0) + 1;
      }
      this.log.debug({ connId: conn.id, remote: conn.remote, reason }, 'connection closed');
      if (!notifyPlugin) {
        this.#channelData.delete(conn.id);
        this.#chain?.channelEnded(conn.id);
        return;
      }
      if (this.#chain !== undefined) this.#chain.handleBroken(conn.id, closeReasonCode(reason));
      else this.#runtime?.handleBroken(conn.id, closeReasonCode(reason));
      // Channel data stays readable during handle-broken (inline: delivered by now, or at the end
      // of the call running, which is this same turn); worker isolation reads its own mirror.
      const id = conn.id;
      queueMicrotask(() => this.#channelData.delete(id));
    },
    onTransportClosed: (conn) => {
      // Admission is released by the listener when the socket closes (accept-gate.ts), so upstream
      // connections never touch the client counts.
      this.#clients.released(conn);
      if (this.#phase === 'draining' && this.#clients.size === 0) void this.stop();
    },
    onLimit: (conn, what) => {
      if (what === 'rate-drop') {
        this.#stats.framesDropped++;
        return;
      }
      this.log.info({ connId: conn.id, remote: conn.remote, limit: what }, 'connection over its limit');
    },
    onProtocolError: (conn, err) => {
      this.log.warn({ connId: conn.id, remote: conn.remote, code: err.code, offset: err.offset }, err.message);
    },

    // RuntimeOwner
    onChannelFailed: (channel) => {
      this.#stats.pluginTraps++;
      this.#registry.get(channel)?.close('plugin-failed', false);
    },
    onConnectDecided: (channel, accepted) => {
      if (!accepted) this.#registry.get(channel)?.close('refused-by-plugin');
    },
    liveChannels: () => this.#liveChannels(),
    onInstanceReplaced: () => {
      this.#restarts++;
      this.log.info({ connections: this.#registry.size, policy: this.options.onPluginFailure }, 'plugin restarted');
    },
    onPluginFailed: (err) => {
      this.log.error({ code: err.code }, 'plugin failed: closing every connection and refusing new ones');
      for (const conn of this.#registry.list()) conn.close('plugin-failed', false);
    },
  };

  *#liveChannels(): Iterable<readonly [number, PeerInfo]> {
    // Upstream channels are not replayed: they belong to the instance that opened them (closed on reset).
    for (const conn of this.#registry.list()) if (conn.state === 'open' && !this.#upstreams.has(conn.id)) yield [conn.id, conn.peerInfo(true)] as const;
  }
}

/** The plugin paths of option `plugin`: one, or a chain (filters first, the application last). */
function pluginPaths(plugin: string | readonly string[]): readonly string[] {
  return typeof plugin === 'string' ? [plugin] : plugin;
}

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Creates a broker (validating `opts` at once, unless `resolveOptions` made them); call `start()` to serve. */
export function createBroker(opts: BrokerOptions | ResolvedOptions): Broker {
  return new Broker(opts);
}
