/**
 * Broker configuration: what a user or the CLI may pass (`BrokerOptions`, all optional but the
 * plugin), the defaults, and `resolveOptions`, which validates everything once, before any socket
 * exists (after nats.js core/src/options.ts). The CLI parses strings into numbers and hands them
 * here; it never re-implements validation.
 */
import type { Logger } from 'pino';
import { InvalidOptionError } from './errors.js';
import { BALANCE_POLICIES, type BalancePolicy, type UpstreamNode } from './routing/balancer.js';
import type { UpstreamService } from './routing/upstreams.js';
import {
  DEFAULT_HOST,
  DEFAULT_LISTEN_BACKLOG,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_OUTBOUND_BYTES,
  DEFAULT_PORT,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_PRE_AUTH_MAX_BYTES,
  DEFAULT_PRE_AUTH_MAX_FRAMES,
  DEFAULT_RATE_BURST,
  MAX_FRAME_BYTES_CEILING,
  MAX_UPSTREAM_KEY_BYTES,
} from './limits.js';
import { DEFAULT_PLUGIN_CALL_BUDGET_MS, DEFAULT_PLUGIN_MEMORY_MAX_MB, PLUGIN_MEMORY_MAX_MB_CEILING } from './limits.js';
import { DEFAULT_CLUSTER_NAME, DEFAULT_CLUSTER_PRESENCE_INTERVAL_MS } from './limits.js';
import { checkClusterToken, checkPresenceInterval, defaultNodeId, parseClusterServers, resolveProcesses } from './cluster/cluster-options.js';
import { isClusterToken } from './cluster/subjects.js';

/** Where the plugin runs: on the I/O thread (fastest) or in a worker thread (preemptible). */
export const ISOLATION_MODES = ['inline', 'worker'] as const;
export type IsolationMode = (typeof ISOLATION_MODES)[number];

/** What a plugin failure (trap, budget, memory cap) does; after Envoy's `failure_policy`. */
export const FAILURE_POLICIES = ['reload', 'close', 'fail-closed'] as const;
export type FailurePolicy = (typeof FAILURE_POLICIES)[number];

/** What happens to a frame over the rate limit. */
export const RATE_ACTIONS = ['close', 'drop'] as const;
export type RateAction = (typeof RATE_ACTIONS)[number];

/** Log levels accepted by `logLevel` (pino's names). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/** Options of `createBroker`. Only `plugin` is required. */
export interface BrokerOptions {
  /** Path of the plugin component (`.wasm`). */
  plugin: string;
  /** Text handed to the plugin's `start(config)`. Default: empty. */
  pluginConfig?: string;
  /** `inline` (plugin on the I/O thread) or `worker` (a worker thread, preemptible). Default `inline`. */
  isolation?: IsolationMode;
  /** CPU budget of one plugin call in ms; enforced in `worker` isolation only (setting it inline is an error). Default 1000. */
  pluginCallBudgetMs?: number;
  /** Cap on the plugin's linear memory in MiB; `memory.grow` fails above it. Default 64. */
  pluginMemoryMaxMb?: number;
  /**
   * Fuel per plugin call, in steps (loop iterations and function calls): a counter compiled into
   * the module stops a call that uses it up, on any thread (the CPU budget of inline mode). Absent
   * or 0: no counter (default).
   */
  pluginCallFuel?: number;
  /** `reload` (restart, keep channels), `close` (restart, close the channels it knew) or `fail-closed`. Default `reload`. */
  onPluginFailure?: FailurePolicy;
  /** Address to bind. Default `127.0.0.1`. */
  host?: string;
  /** TCP port; 0 picks a free one. Default 10241. */
  port?: number;
  /** Largest frame body in bytes, inbound and outbound. Default 1 MiB. */
  maxFrameBytes?: number;
  /**
   * Bytes that may wait for one slow peer before `channel-send` returns false. Default 8 MiB, or
   * twice `maxFrameBytes` when that is larger.
   */
  maxOutboundBytes?: number;
  /** Listen backlog. Default 4096. */
  listenBacklog?: number;
  /** How long a drain (stop, SIGTERM) lets outbound queues flush before closing channels, ms. Default 5000. */
  drainTimeoutMs?: number;
  /** Send a heartbeat after this much inbound silence, ms; 0 disables. Default 15000. */
  pingIntervalMs?: number;
  /** Close a connection without any inbound frame for this long (heartbeat-timeout), ms; 0 disables. Default 45000. */
  idleTimeoutMs?: number;
  /** Close connections the plugin has not authenticated within this many ms (auth-timeout); 0 disables. Default 0. */
  authDeadlineMs?: number;
  /** Frames an unauthenticated connection may hand the plugin (with an auth deadline). Default 8. */
  preAuthMaxFrames?: number;
  /** Body bytes an unauthenticated connection may hand the plugin (with an auth deadline). Default 64 KiB. */
  preAuthMaxBytes?: number;
  /** Frames per second per connection; 0 disables. Default 0. */
  rateFrames?: number;
  /** Body bytes per second per connection; 0 disables. Default 0. */
  rateBytes?: number;
  /** Rate bucket capacity, in seconds of the rate (bursts). Default 2. */
  rateBurst?: number;
  /** Over the rate: close the connection (rate-limited) or drop the frame. Default close. */
  rateAction?: RateAction;
  /** Open connections at most; 0 = no cap. Default 19000. */
  maxConnections?: number;
  /** Open connections per client IP at most; 0 = no cap. Default 0. */
  maxConnectionsPerIp?: number;
  /** New connections per second per client IP (bursts up to the same number); 0 = no cap. Default 0. */
  acceptRatePerIp?: number;
  /**
   * Upstream services by logical name (`upstream-open`): each maps to its nodes and a policy,
   * either as an object or as the CLI's text `host:port,host:port[/policy]`
   * (`{ logic: '127.0.0.1:7001,127.0.0.1:7002/least-connections' }`). Policy default: round-robin.
   */
  upstream?: Readonly<Record<string, string | UpstreamServiceOptions>>;
  // Cluster (#12, docs/cluster.md) ----------------------------------------------------------------
  /**
   * NATS servers to join a cluster of brokers through: `nats://host:port` URLs, as a list or one
   * comma-separated string. Absent or empty: no cluster (one broker, no NATS). Config key `cluster`.
   */
  cluster?: string | readonly string[];
  /** This node's id in the cluster (1 to 64 of `[A-Za-z0-9_-]`). Default: host name and pid. Config key `node-id`. */
  nodeId?: string;
  /** Cluster name: namespaces every subject, so clusters can share one NATS. Default `plugbroker`. Config key `cluster-name`. */
  clusterName?: string;
  /**
   * Broker processes for `broker serve` to start on this machine (`auto`: one per core), sharing
   * the listeners and joined through the cluster; needs `cluster`. A `Broker` object itself is
   * always one process (the option is validated here and read by `broker serve`). Default: none
   * (one process, no primary). Config key `processes`.
   */
  processes?: number | 'auto';
  /**
   * How often a node announces itself, ms; a node silent for 3 intervals is lost and its
   * memberships vanish from the others. Default 2000 (lost after 6–8 s), at most 4000.
   */
  clusterPresenceIntervalMs?: number;
  /** Internal (`broker serve --processes`): the node id of the process this one replaces; it says bye for it. */
  clusterReplacesNode?: string;
  /** pino level. Default `info`. Ignored when `logger` is given. */
  logLevel?: LogLevelName;
  /** A pino logger to use instead of the default one (stdout JSON). */
  logger?: Logger;
}

/** One upstream service as an object (`BrokerOptions.upstream`). */
export interface UpstreamServiceOptions {
  /**
   * `tcp` (default): the broker connects to `nodes`. `nats`: the service is the NATS queue group
   * of the same name, reached through the cluster (needs `cluster`; no `nodes`; docs/cluster-services.md).
   */
  transport?: 'tcp' | 'nats';
  /** `host:port` texts (`[::1]:7001` for IPv6) or `{ host, port }`. At least one (none for `nats`). */
  nodes?: readonly (string | UpstreamNode)[];
  /** Default `round-robin`. */
  policy?: BalancePolicy;
}

/** Every option, resolved and validated. */
export interface ResolvedOptions {
  readonly plugin: string;
  readonly pluginConfig: string;
  readonly isolation: IsolationMode;
  readonly pluginCallBudgetMs: number;
  readonly pluginMemoryMaxMb: number;
  /** Absent when no fuel counter is wanted. */
  readonly pluginCallFuel?: number;
  readonly onPluginFailure: FailurePolicy;
  readonly host: string;
  readonly port: number;
  readonly maxFrameBytes: number;
  readonly maxOutboundBytes: number;
  readonly listenBacklog: number;
  readonly drainTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly authDeadlineMs: number;
  readonly preAuthMaxFrames: number;
  readonly preAuthMaxBytes: number;
  readonly rateFrames: number;
  readonly rateBytes: number;
  readonly rateBurst: number;
  readonly rateAction: RateAction;
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  readonly acceptRatePerIp: number;
  readonly logLevel: LogLevelName;
  readonly logger: Logger | undefined;
  readonly upstream: Readonly<Record<string, UpstreamService>>;
  /** NATS URLs; empty: no cluster. */
  readonly cluster: readonly string[];
  readonly nodeId: string;
  readonly clusterName: string;
  /** 0: one process, no primary. */
  readonly processes: number;
  readonly clusterPresenceIntervalMs: number;
  readonly clusterReplacesNode: string | undefined;
}

/** Defaults for every optional field of `BrokerOptions`. */
export const DEFAULTS = Object.freeze({
  pluginConfig: '',
  isolation: 'inline' as IsolationMode,
  pluginCallBudgetMs: DEFAULT_PLUGIN_CALL_BUDGET_MS,
  pluginMemoryMaxMb: DEFAULT_PLUGIN_MEMORY_MAX_MB,
  onPluginFailure: 'reload' as FailurePolicy,
  host: DEFAULT_HOST,
  port: DEFAULT_PORT,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxOutboundBytes: DEFAULT_MAX_OUTBOUND_BYTES,
  listenBacklog: DEFAULT_LISTEN_BACKLOG,
  drainTimeoutMs: DEFAULT_DRAIN_TIMEOUT_MS,
  pingIntervalMs: DEFAULT_PING_INTERVAL_MS,
  idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
  authDeadlineMs: 0,
  preAuthMaxFrames: DEFAULT_PRE_AUTH_MAX_FRAMES,
  preAuthMaxBytes: DEFAULT_PRE_AUTH_MAX_BYTES,
  rateFrames: 0,
  rateBytes: 0,
  rateBurst: DEFAULT_RATE_BURST,
  rateAction: 'close' as RateAction,
  maxConnections: DEFAULT_MAX_CONNECTIONS,
  maxConnectionsPerIp: 0,
  acceptRatePerIp: 0,
  logLevel: 'info' as LogLevelName,
  upstream: Object.freeze({}) as Readonly<Record<string, UpstreamService>>,
  cluster: Object.freeze([]) as readonly string[],
  clusterName: DEFAULT_CLUSTER_NAME,
  processes: 0,
  clusterPresenceIntervalMs: DEFAULT_CLUSTER_PRESENCE_INTERVAL_MS,
});

/**
 * Spreads the defaults under `opts`, checks every field and returns a frozen copy.
 * @throws {InvalidOptionError} naming the first option whose value is out of its domain.
 */
export function resolveOptions(opts: BrokerOptions): Readonly<ResolvedOptions> {
  for (const key of Object.keys(opts)) {
    if (!KNOWN_OPTIONS.has(key)) throw new InvalidOptionError(key, (opts as unknown as Record<string, unknown>)[key], `absent: there is no option '${key}'`);
  }
  const given = stripUndefined(opts);
  const o = { ...DEFAULTS, logger: undefined, ...given } as ResolvedOptions;
  // The outbound queue must hold at least one full frame: a raised frame limit raises its default.
  if (given.maxOutboundBytes === undefined && typeof o.maxFrameBytes === 'number') {
    (o as { maxOutboundBytes: number }).maxOutboundBytes = Math.max(DEFAULTS.maxOutboundBytes, 2 * o.maxFrameBytes);
  }
  if (typeof o.plugin !== 'string' || o.plugin.length === 0) throw new InvalidOptionError('plugin', o.plugin, 'a path to a .wasm component');
  if (typeof o.pluginConfig !== 'string') throw new InvalidOptionError('pluginConfig', o.pluginConfig, 'a string');
  if (!(ISOLATION_MODES as readonly string[]).includes(o.isolation))
    throw new InvalidOptionError('isolation', o.isolation, `one of ${ISOLATION_MODES.join(', ')}`);
  checkInteger('pluginCallBudgetMs', o.pluginCallBudgetMs, 1, 3_600_000);
  // Inline mode cannot stop a call that never returns (README, Isolation): a budget there would be a promise not kept.
  if (given.pluginCallBudgetMs !== undefined && o.isolation !== 'worker') {
    throw new InvalidOptionError('pluginCallBudgetMs', o.pluginCallBudgetMs, "set only with isolation 'worker' (inline mode cannot preempt a plugin call)");
  }
  checkInteger('pluginMemoryMaxMb', o.pluginMemoryMaxMb, 1, PLUGIN_MEMORY_MAX_MB_CEILING);
  if (o.pluginCallFuel !== undefined) checkInteger('pluginCallFuel', o.pluginCallFuel, 0, 0x7fffffff);
  if (!(FAILURE_POLICIES as readonly string[]).includes(o.onPluginFailure)) {
    throw new InvalidOptionError('onPluginFailure', o.onPluginFailure, `one of ${FAILURE_POLICIES.join(', ')}`);
  }
  if (typeof o.host !== 'string' || o.host.length === 0) throw new InvalidOptionError('host', o.host, 'a host name or IP address');
  checkInteger('port', o.port, 0, 65535);
  checkInteger('maxFrameBytes', o.maxFrameBytes, 1, MAX_FRAME_BYTES_CEILING);
  checkInteger('maxOutboundBytes', o.maxOutboundBytes, 1, Number.MAX_SAFE_INTEGER);
  checkInteger('listenBacklog', o.listenBacklog, 1, 65535);
  checkInteger('drainTimeoutMs', o.drainTimeoutMs, 0, 3_600_000);
  checkInteger('pingIntervalMs', o.pingIntervalMs, 0, 86_400_000);
  checkInteger('idleTimeoutMs', o.idleTimeoutMs, 0, 86_400_000);
  checkInteger('authDeadlineMs', o.authDeadlineMs, 0, 86_400_000);
  checkInteger('preAuthMaxFrames', o.preAuthMaxFrames, 1, Number.MAX_SAFE_INTEGER);
  checkInteger('preAuthMaxBytes', o.preAuthMaxBytes, 0, Number.MAX_SAFE_INTEGER);
  checkInteger('rateFrames', o.rateFrames, 0, Number.MAX_SAFE_INTEGER);
  checkInteger('rateBytes', o.rateBytes, 0, Number.MAX_SAFE_INTEGER);
  if (typeof o.rateBurst !== 'number' || !Number.isFinite(o.rateBurst) || o.rateBurst <= 0 || o.rateBurst > 3600) {
    throw new InvalidOptionError('rateBurst', o.rateBurst, 'a number of seconds above 0 and at most 3600');
  }
  if (!(RATE_ACTIONS as readonly string[]).includes(o.rateAction))
    throw new InvalidOptionError('rateAction', o.rateAction, `one of ${RATE_ACTIONS.join(', ')}`);
  checkInteger('maxConnections', o.maxConnections, 0, Number.MAX_SAFE_INTEGER);
  checkInteger('maxConnectionsPerIp', o.maxConnectionsPerIp, 0, Number.MAX_SAFE_INTEGER);
  checkInteger('acceptRatePerIp', o.acceptRatePerIp, 0, Number.MAX_SAFE_INTEGER);
  if (o.pingIntervalMs > 0 && o.idleTimeoutMs > 0 && o.idleTimeoutMs <= o.pingIntervalMs) {
    throw new InvalidOptionError(
      'idleTimeoutMs',
      o.idleTimeoutMs,
      `above pingIntervalMs (${o.pingIntervalMs}) so that a ping can be answered before the timeout, or 0`,
    );
  }
  if (!(LOG_LEVELS as readonly string[]).includes(o.logLevel)) throw new InvalidOptionError('logLevel', o.logLevel, `one of ${LOG_LEVELS.join(', ')}`);
  (o as { upstream: Readonly<Record<string, UpstreamService>> }).upstream = resolveUpstreams(o.upstream as BrokerOptions['upstream']);
  if (o.maxOutboundBytes < o.maxFrameBytes) {
    throw new InvalidOptionError('maxOutboundBytes', o.maxOutboundBytes, `at least maxFrameBytes (${o.maxFrameBytes}) so that one full frame fits`);
  }
  resolveCluster(o, given);
  return Object.freeze(o);
}

/** The cluster block of `resolveOptions` (#12): URLs, ids, processes, and the rules between them. */
function resolveCluster(o: ResolvedOptions, given: Partial<BrokerOptions>): void {
  const w = o as { -readonly [K in keyof ResolvedOptions]: ResolvedOptions[K] };
  w.cluster = Object.freeze(parseClusterServers(given.cluster));
  w.nodeId = given.nodeId === undefined ? defaultNodeId() : checkClusterToken('nodeId', given.nodeId);
  w.clusterName = checkClusterToken('clusterName', o.clusterName);
  w.processes = given.processes === undefined ? 0 : resolveProcesses(given.processes);
  w.clusterPresenceIntervalMs = checkPresenceInterval(o.clusterPresenceIntervalMs);
  w.clusterReplacesNode = given.clusterReplacesNode === undefined ? undefined : checkClusterToken('nodeId', given.clusterReplacesNode);
  const clustered = w.cluster.length > 0;
  if (w.processes > 0 && !clustered) {
    throw new InvalidOptionError('processes', given.processes, 'used together with --cluster (the processes share groups through the cluster)');
  }
  for (const [name, svc] of Object.entries(o.upstream)) {
    if (svc.transport === 'nats' && !clustered) throw new InvalidOptionError('upstream', `${name}=nats`, 'a NATS service only together with --cluster');
  }
}

/**
 * Validates `BrokerOptions.upstream` into services with parsed nodes.
 * @throws {InvalidOptionError} naming the service and what is wrong.
 */
function resolveUpstreams(value: BrokerOptions['upstream']): Readonly<Record<string, UpstreamService>> {
  if (value === null || typeof value !== 'object') throw new InvalidOptionError('upstream', value, 'an object: service name → nodes');
  const out: Record<string, UpstreamService> = {};
  for (const [name, svc] of Object.entries(value)) {
    if (name.length === 0 || Buffer.byteLength(name) > MAX_UPSTREAM_KEY_BYTES) {
      throw new InvalidOptionError('upstream', name, `a service name of 1 to ${MAX_UPSTREAM_KEY_BYTES} bytes`);
    }
    const spec = typeof svc === 'string' ? parseUpstreamText(name, svc) : svc;
    if (spec !== null && typeof spec === 'object' && spec.transport === 'nats') {
      // The service is a NATS queue group: its name is a subject token and the queue group's name.
      if (!isClusterToken(name)) throw new InvalidOptionError('upstream', name, 'a NATS service name of 1 to 64 characters of A-Z a-z 0-9 _ -');
      if (spec.nodes !== undefined && spec.nodes.length > 0) throw new InvalidOptionError('upstream', svc, `service '${name}': no nodes for a NATS service`);
      out[name] = Object.freeze({ transport: 'nats', nodes: Object.freeze([]), policy: 'round-robin' });
      continue;
    }
    if (spec === null || typeof spec !== 'object' || !Array.isArray(spec.nodes) || spec.nodes.length === 0) {
      throw new InvalidOptionError('upstream', svc, `service '${name}': at least one node`);
    }
    const policy = spec.policy ?? 'round-robin';
    if (!BALANCE_POLICIES.includes(policy))
      throw new InvalidOptionError('upstream', policy, `service '${name}': a policy among ${BALANCE_POLICIES.join(', ')}`);
    if (spec.transport !== undefined && spec.transport !== 'tcp')
      throw new InvalidOptionError('upstream', spec.transport, `service '${name}': transport tcp or nats`);
    const nodes = spec.nodes.map((n) => parseNode(name, n));
    out[name] = Object.freeze({ transport: 'tcp', nodes: Object.freeze(nodes), policy });
  }
  return Object.freeze(out);
}

/** `host:port,host:port[/policy]` (or `nats`) → the object form. */
function parseUpstreamText(name: string, text: string): UpstreamServiceOptions {
  if (text.trim() === 'nats') return { transport: 'nats' };
  const slash = text.lastIndexOf('/');
  const nodesText = slash === -1 ? text : text.slice(0, slash);
  const policy = slash === -1 ? undefined : (text.slice(slash + 1) as BalancePolicy);
  const nodes = nodesText
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n.length > 0);
  if (nodes.length === 0) throw new InvalidOptionError('upstream', text, `service '${name}': host:port[,host:port…][/policy]`);
  return { nodes, policy };
}

function parseNode(service: string, node: string | UpstreamNode): UpstreamNode {
  let host: unknown;
  let port: unknown;
  if (typeof node === 'string') {
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(node);
    if (m === null) throw new InvalidOptionError('upstream', node, `service '${service}': a node as host:port`);
    host = m[1] ?? m[2];
    port = Number(m[3]);
  } else if (node !== null && typeof node === 'object') {
    host = node.host;
    port = node.port;
  }
  if (typeof host !== 'string' || host.length === 0) throw new InvalidOptionError('upstream', node, `service '${service}': a node with a host`);
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidOptionError('upstream', node, `service '${service}': a node with a port from 1 to 65535`);
  }
  return Object.freeze({ host, port });
}

const KNOWN_OPTIONS = new Set(['plugin', 'logger', 'pluginCallFuel', 'nodeId', 'clusterReplacesNode', ...Object.keys(DEFAULTS)]);

function checkInteger(option: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(option, value, `an integer from ${min} to ${max}`);
  }
}

function stripUndefined<T extends object>(obj: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
