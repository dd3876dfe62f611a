/**
 * `Broker`: wires the listener, the connections, the plugin runtime and the router, and owns the
 * start/stop lifecycle.
 */
import type { Logger } from 'pino';
import { planReload, resolveOptions, type BrokerOptions, type ReloadPlan, type ResolvedOptions } from './config.js';
import { Admission } from './connection/admission.js';
import { tickClock } from './connection/clock.js';
import { Connection, type ConnectionEvents, type ConnectionPolicy } from './connection/connection.js';
import { sweepHeartbeats, sweepIntervalMs, type HeartbeatPolicy } from './connection/heartbeat.js';
import { ConnectionRegistry } from './connection/registry.js';
import { OutboundArena } from './connection/outbound-arena.js';
import { CLOSE_LINGER_MS } from './limits.js';
import { createBrokerHostImports } from './host-api/host-imports.js';
import { createLogger } from './log.js';
import { loadPlugin } from './plugin/load/loader.js';
import type { PluginSpec } from './plugin/load/plugin-spec.js';
import type { PluginHealth } from './plugin/runtime/health.js';
import { swapRuntime, type SwapResult } from './plugin/runtime/hot-swap.js';
import { createRuntime, type PluginRuntime, type RuntimeOwner } from './plugin/runtime/runtime.js';
import { createRuntimeServices } from './plugin/runtime/runtime-services.js';
import { closeReasonCode, type CloseReason, type PeerInfo } from './plugin/world.js';
import { Router } from './routing/router.js';
import { TimerTable } from './routing/timers.js';
import { Upstreams, type UpstreamScope } from './routing/upstreams.js';
import { listenTcp, type TcpListener } from './transport/tcp-listener.js';
import type { Transport } from './transport/transport.js';

/** Counters of what happened since start. */
export interface BrokerStats {
  /** Connections accepted by the listener. */
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
}

/** A running broker. Create with `createBroker`. */
export class Broker {
  #options: ResolvedOptions;
  readonly log: Logger;
  readonly #registry = new ConnectionRegistry();
  readonly #router = new Router(this.#registry);
  readonly #arena = new OutboundArena();
  /** Timers of each plugin runtime (the running one, and one being swapped in or out). */
  readonly #timerTables = new Map<PluginRuntime, TimerTable>();
  /** Upstream channels of each plugin runtime, likewise. */
  readonly #upstreamScopes = new Map<PluginRuntime, UpstreamScope>();
  #runtime: PluginRuntime | undefined;
  #listener: TcpListener | undefined;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  readonly #stats: BrokerStats = { accepted: 0, live: 0, framesIn: 0, closed: {}, pluginTraps: 0, framesDropped: 0, refused: {} };
  #policy: ConnectionPolicy;
  readonly #heartbeat: HeartbeatPolicy;
  readonly #admission: Admission;
  readonly #upstreams: Upstreams;
  #sweeper: NodeJS.Timeout | undefined;

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
    this.#heartbeat = Object.freeze({ pingIntervalMs: o.pingIntervalMs, idleTimeoutMs: o.idleTimeoutMs, authDeadlineMs: o.authDeadlineMs });
    this.#admission = new Admission({ maxConnections: o.maxConnections, maxConnectionsPerIp: o.maxConnectionsPerIp, acceptRatePerIp: o.acceptRatePerIp });
    // Upstream channels: the client framing and size limits, but no rate limit or auth gate (the
    // broker chose to talk to these nodes).
    const upstreamPolicy = Object.freeze({ ...this.#policy, rateFrames: 0, rateBytes: 0, authRequired: false });
    this.#upstreams = new Upstreams(o.upstream, { registry: this.#registry, events: this.#hooks, policy: upstreamPolicy, arena: this.#arena, log: this.log });
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
    if (this.#listener === undefined) throw new Error('broker is not started');
    return this.#listener.address;
  }

  /** Plugin health. */
  get pluginHealth(): PluginHealth {
    return this.#runtime?.health ?? 'restarting';
  }

  /** Linear memory of the current plugin instance, in bytes. */
  get pluginMemoryBytes(): number {
    return this.#runtime?.memoryBytes ?? 0;
  }

  /** A copy of the counters. */
  stats(): BrokerStats {
    return { ...this.#stats, live: this.#registry.size, closed: { ...this.#stats.closed }, refused: { ...this.#admission.refusedTotal } };
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
    const spec = await loadPlugin(this.options.plugin, { memoryMaxMb: this.options.pluginMemoryMaxMb, callFuel: this.options.pluginCallFuel });
    const runtime = await this.#createRuntime(spec);
    await runtime.start();
    this.#runtime = runtime;
    try {
      this.#listener = await listenTcp({
        host: this.options.host,
        port: this.options.port,
        backlog: this.options.listenBacklog,
        onTransport: (t) => this.#accept(t),
        onError: (err) => this.log.error({ err }, 'listener error'),
      });
    } catch (err) {
      await runtime.stop();
      throw err;
    }
    this.#sweeper = setInterval(() => this.#sweep(), sweepIntervalMs(this.#heartbeat));
    this.#sweeper.unref();
    this.log.info(
      { host: this.#listener.address.host, port: this.#listener.address.port, plugin: spec.path, sha256: spec.sha256, stringEncoding: spec.stringEncoding },
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
    const listener = this.#listener;
    const closed = listener?.close();
    clearInterval(this.#sweeper);
    this.#upstreams.stop();
    const conns = this.#registry.list();
    this.log.info({ connections: conns.length, drainTimeoutMs: this.options.drainTimeoutMs }, 'draining');
    for (const conn of conns) conn.stopReading();
    const flushed = await this.#waitFlushed(conns, this.options.drainTimeoutMs);
    if (!flushed) this.log.warn({ drainTimeoutMs: this.options.drainTimeoutMs }, 'drain timeout: closing channels with unsent frames');
    for (const conn of conns) conn.close('shutdown');
    this.#dropTimers();
    await this.#runtime?.stop();
    if (closed !== undefined) await withTimeout(closed, CLOSE_LINGER_MS + 100);
    this.log.info(this.stats(), 'stopped');
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

  #accept(transport: Transport): void {
    this.#stats.accepted++;
    const runtime = this.#runtime;
    // Refused sockets are destroyed at once and counted; #sweep logs one summary line per tick.
    if (this.#stopping !== undefined) {
      this.#admission.refuse('shutting-down');
      transport.destroy();
      return;
    }
    if (runtime === undefined || runtime.health !== 'ok') {
      this.#admission.refuse('plugin-failed');
      transport.destroy();
      return;
    }
    if (this.#admission.admit(transport.remoteAddress, tickClock()) !== null) {
      transport.destroy();
      return;
    }
    const conn = new Connection(this.#registry.allocateId(), transport, this.#hooks, this.#policy, this.#arena);
    this.#registry.add(conn);
    const generation = runtime.generation;
    const accepted = runtime.handleConnect(conn.id, conn.peerInfo(false));
    if (runtime.generation !== generation) return; // trapped: already closed as plugin-failed
    // undefined: worker isolation answers later (onConnectDecided); frames queue behind the connect.
    if (accepted !== false) conn.open();
    else conn.close('refused-by-plugin');
  }

  /** A runtime for `spec` with this broker's isolation, failure policy and host interface. */
  async #createRuntime(spec: PluginSpec): Promise<PluginRuntime> {
    const log = this.log.child({ plugin: spec.name });
    // Each runtime has its own timers: they fire into it, and go when it is swapped out or stopped.
    let runtime: PluginRuntime | undefined;
    const timers = new TimerTable((token, arm) => runtime?.handleTimer(token, arm));
    const upstreamScope = this.#upstreams.createScope();
    const router = this.#router;
    runtime = await createRuntime(this.options.isolation, {
      spec,
      imports: createBrokerHostImports({ router, logger: log, timers, upstreams: upstreamScope, maxFrameBytes: this.options.maxFrameBytes, timed: spec.timed }),
      services: createRuntimeServices({ router, timers, upstreams: upstreamScope }),
      config: this.options.pluginConfig,
      log,
      owner: this.#hooks,
      failurePolicy: this.options.onPluginFailure,
      callBudgetMs: this.options.pluginCallBudgetMs,
      maxFrameBytes: this.options.maxFrameBytes,
      maxOutboundBytes: this.options.maxOutboundBytes,
    });
    this.#timerTables.set(runtime, timers);
    this.#upstreamScopes.set(runtime, upstreamScope);
    return runtime;
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
  reloadPlugin(path: string = this.options.plugin): Promise<SwapResult> {
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
    const result = swapRuntime(old, next, this.#hooks);
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
      this.#runtime!.handleMsg(conn.id, body);
    },
    onClosed: (conn, reason, notifyPlugin) => {
      this.#registry.delete(conn.id);
      this.#router.channelEnded(conn.id);
      this.#stats.closed[reason] = (this.#stats.closed[reason] ?? 0) + 1;
      this.log.debug({ connId: conn.id, remote: conn.remote, reason }, 'connection closed');
      if (notifyPlugin) this.#runtime?.handleBroken(conn.id, closeReasonCode(reason));
    },
    onTransportClosed: (conn) => {
      this.#admission.release(conn.remoteAddress);
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

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Creates a broker (validating `opts` at once, unless `resolveOptions` made them); call `start()` to serve. */
export function createBroker(opts: BrokerOptions | ResolvedOptions): Broker {
  return new Broker(opts);
}
