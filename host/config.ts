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
import { isSecureScheme, isWebSocketScheme, parseListenUrl, type ListenerSpec } from './transport/listen-url.js';
import { loadTlsCredentials, type TlsCredentials } from './transport/tls-credentials.js';
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
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from './limits.js';
import { DEFAULT_PLUGIN_CALL_BUDGET_MS, DEFAULT_PLUGIN_MEMORY_MAX_MB, PLUGIN_MEMORY_MAX_MB_CEILING } from './limits.js';

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
  /** Address of the default `tcp://` listener (used when `listen` is absent). Default `127.0.0.1`. */
  host?: string;
  /** Port of the default `tcp://` listener (used when `listen` is absent); 0 picks a free one. Default 10241. */
  port?: number;
  // --- listeners (issue #10) ----------------------------------------------------------------
  /**
   * Listeners as URLs: `tcp://host:port`, `tls://host:port` (either with `?framing=decimal|binary`),
   * `ws://host:port/path`, `wss://host:port/path`; port 0 picks a free one. All feed the same
   * plugin, groups, upstreams and limits. Absent: one `tcp://host:port` from `host`/`port`, which
   * may then not be given as well.
   */
  listen?: readonly string[];
  /** PEM certificate (chain) file of `tls://` and `wss://` listeners (required by them). */
  tlsCert?: string;
  /** PEM private key file of `tlsCert` (unencrypted). */
  tlsKey?: string;
  /** Negotiate permessage-deflate on `ws://`/`wss://` when a client offers it. Default false. */
  wsCompression?: boolean;
  /**
   * `Origin`s browsers may open `ws://`/`wss://` connections from (`https://app.example.com`), as a
   * list or comma-separated text; others get 403. Empty (default): any. Clients that send no
   * `Origin` (not browsers) are not affected.
   */
  wsAllowedOrigins?: readonly string[] | string;
  /** A TLS handshake or WebSocket upgrade not finished this long after the TCP accept is closed, ms. Default 10000. */
  handshakeTimeoutMs?: number;
  // ------------------------------------------------------------------------------------------
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
  /** pino level. Default `info`. Ignored when `logger` is given. */
  logLevel?: LogLevelName;
  /** A pino logger to use instead of the default one (stdout JSON). */
  logger?: Logger;
}

/** One upstream service as an object (`BrokerOptions.upstream`). */
export interface UpstreamServiceOptions {
  /** `host:port` texts (`[::1]:7001` for IPv6) or `{ host, port }`. At least one. */
  nodes: readonly (string | UpstreamNode)[];
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
  /** Every listener, parsed; at least one. */
  readonly listen: readonly ListenerSpec[];
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  /** Loaded from `tlsCert`/`tlsKey` when a secure listener exists. */
  readonly tlsCredentials: TlsCredentials | undefined;
  readonly wsCompression: boolean;
  readonly wsAllowedOrigins: readonly string[];
  readonly handshakeTimeoutMs: number;
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
  wsCompression: false,
  wsAllowedOrigins: Object.freeze([]) as readonly string[],
  handshakeTimeoutMs: DEFAULT_HANDSHAKE_TIMEOUT_MS,
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
  const o = { ...DEFAULTS, logger: undefined, ...given } as unknown as ResolvedOptions;
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
  resolveListeners(o, given);
  if (o.maxOutboundBytes < o.maxFrameBytes) {
    throw new InvalidOptionError('maxOutboundBytes', o.maxOutboundBytes, `at least maxFrameBytes (${o.maxFrameBytes}) so that one full frame fits`);
  }
  return Object.freeze(o);
}

/**
 * Listeners (issue #10): parses `listen` (or builds the default `tcp://host:port`), checks the
 * TLS and WebSocket options against the listeners that use them, and loads the certificate.
 * @throws {InvalidOptionError}
 */
function resolveListeners(o: ResolvedOptions, given: Partial<BrokerOptions>): void {
  const w = o as { -readonly [K in keyof ResolvedOptions]: ResolvedOptions[K] };
  checkInteger('handshakeTimeoutMs', o.handshakeTimeoutMs, 1, 3_600_000);
  if (typeof o.wsCompression !== 'boolean') throw new InvalidOptionError('wsCompression', o.wsCompression, 'true or false');
  let listen: ListenerSpec[];
  if (given.listen === undefined) {
    listen = [Object.freeze({ scheme: 'tcp', host: o.host, port: o.port, path: '', framing: 'decimal' } as const)];
  } else {
    if (!Array.isArray(given.listen) || given.listen.length === 0) throw new InvalidOptionError('listen', given.listen, 'a list of at least one listener URL');
    for (const key of ['host', 'port'] as const) {
      if (given[key] !== undefined) throw new InvalidOptionError(key, given[key], 'absent when listen is given (put the address in a tcp:// URL)');
    }
    listen = given.listen.map((url) => parseListenUrl(url));
    const seen = new Set<string>();
    for (const l of listen) {
      const at = `${l.host}:${l.port}`;
      if (l.port !== 0 && seen.has(at)) throw new InvalidOptionError('listen', given.listen, `listeners on different ports (${at} is given twice)`);
      seen.add(at);
    }
  }
  w.listen = Object.freeze(listen);
  const secure = listen.some((l) => isSecureScheme(l.scheme));
  const ws = listen.some((l) => isWebSocketScheme(l.scheme));
  for (const key of ['tlsCert', 'tlsKey'] as const) {
    const v = given[key];
    if (v !== undefined && (typeof v !== 'string' || v.length === 0)) throw new InvalidOptionError(key, v, 'a path to a PEM file');
    if (v !== undefined && !secure) throw new InvalidOptionError(key, v, 'absent unless a tls:// or wss:// listener is given');
    if (v === undefined && secure) throw new InvalidOptionError(key, v, 'set (a PEM file) for the tls:// and wss:// listeners');
  }
  w.tlsCert = given.tlsCert;
  w.tlsKey = given.tlsKey;
  w.tlsCredentials = secure ? loadTlsCredentials(given.tlsCert!, given.tlsKey!) : undefined;
  if (given.wsCompression === true && !ws) throw new InvalidOptionError('wsCompression', true, 'absent unless a ws:// or wss:// listener is given');
  const raw = o.wsAllowedOrigins as unknown;
  const origins: unknown = typeof raw === 'string' ? raw.split(',') : raw;
  if (!Array.isArray(origins)) throw new InvalidOptionError('wsAllowedOrigins', raw, 'a list of origins');
  const cleaned = origins.map((x: unknown) => (typeof x === 'string' ? x.trim() : x)).filter((x) => x !== '');
  for (const origin of cleaned) {
    if (typeof origin !== 'string' || !isOrigin(origin))
      throw new InvalidOptionError('wsAllowedOrigins', origin, 'origins as scheme://host[:port] (https://app.example.com)');
  }
  if (cleaned.length > 0 && !ws) throw new InvalidOptionError('wsAllowedOrigins', raw, 'absent unless a ws:// or wss:// listener is given');
  w.wsAllowedOrigins = Object.freeze(cleaned as string[]);
}

/** `scheme://host[:port]` with nothing after it, as browsers send in `Origin`. */
function isOrigin(text: string): boolean {
  try {
    const u = new URL(text);
    return u.origin !== 'null' && u.origin === text.replace(/\/$/, '').toLowerCase();
  } catch {
    return false;
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
    if (spec === null || typeof spec !== 'object' || !Array.isArray(spec.nodes) || spec.nodes.length === 0) {
      throw new InvalidOptionError('upstream', svc, `service '${name}': at least one node`);
    }
    const policy = spec.policy ?? 'round-robin';
    if (!BALANCE_POLICIES.includes(policy))
      throw new InvalidOptionError('upstream', policy, `service '${name}': a policy among ${BALANCE_POLICIES.join(', ')}`);
    const nodes = spec.nodes.map((n) => parseNode(name, n));
    out[name] = Object.freeze({ nodes: Object.freeze(nodes), policy });
  }
  return Object.freeze(out);
}

/** `host:port,host:port[/policy]` → the object form. */
function parseUpstreamText(name: string, text: string): UpstreamServiceOptions {
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

const KNOWN_OPTIONS = new Set(['plugin', 'logger', 'pluginCallFuel', 'listen', 'tlsCert', 'tlsKey', ...Object.keys(DEFAULTS)]);

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
