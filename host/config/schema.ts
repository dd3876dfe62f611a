/**
 * Every broker option, once: its type and domain (a zod schema), its default, its flag and help
 * text, its config-file key and environment variable (both derived from the flag), whether a
 * SIGHUP reload applies it, and whether it is a secret. The library types (`BrokerOptions`,
 * `ResolvedOptions`), `resolveOptions`, the `broker serve` flags, the config file, the environment
 * and the published JSON Schema are all generated from `OPTION_SHAPE` below.
 *
 * Adding an option: one entry in `OPTION_SHAPE` (TSDoc comment, schema, metadata). Name it with its
 * unit (`…Ms`, `…Bytes`); the flag is its kebab-case name (`maxFrameBytes` → `--max-frame-bytes`),
 * the file key the flag without dashes (`max-frame-bytes:`), the variable `PLUGBROKER_MAX_FRAME_BYTES`.
 * Rules between options go in `CROSS_RULES` (resolve.ts). docs/configuration.md lists them all.
 */
import type { Logger } from 'pino';
import * as z from 'zod';
import {
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_LISTEN_BACKLOG,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_OUTBOUND_BYTES,
  DEFAULT_CHANNEL_DATA_MAX_BYTES,
  DEFAULT_RECORD_MAX_BYTES,
  CHANNEL_DATA_MAX_BYTES_CEILING,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_PLUGIN_CALL_BUDGET_MS,
  DEFAULT_PLUGIN_MEMORY_MAX_MB,
  DEFAULT_PORT,
  DEFAULT_PRE_AUTH_MAX_BYTES,
  DEFAULT_PRE_AUTH_MAX_FRAMES,
  DEFAULT_RATE_BURST,
  MAX_FRAME_BYTES_CEILING,
  PLUGIN_MEMORY_MAX_MB_CEILING,
  PLUGIN_START_BUDGET_FACTOR,
} from '../limits.js';
import { DEFAULT_CLOSE_SUMMARY_INTERVAL_MS, DEFAULT_HANDSHAKE_TIMEOUT_MS } from '../limits.js';
import { tryParseListenUrl, type ListenerSpec } from '../transport/listen-url.js';
import { upstreamSchema } from './upstream.js';
import { clusterNameSchema, clusterServersSchema, nodeIdSchema, presenceIntervalSchema, processesSchema } from '../cluster/cluster-options.js';
import { DEFAULT_CLUSTER_NAME, DEFAULT_CLUSTER_PRESENCE_INTERVAL_MS } from '../limits.js';

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

/**
 * What a SIGHUP reload does with a changed value: `live` applies it to the running broker
 * (connections opened afterwards, for per-connection limits), `swap` applies it through the plugin
 * hot swap that follows, `restart` cannot apply it (the reload logs that the key needs a restart).
 */
export type ReloadClass = 'live' | 'swap' | 'restart';

/** What the CLI, the config file and the docs need to know about one option beyond its type. */
export interface OptionMeta {
  /** Argument placeholder in `--help` (`<n>`, `<ms>`); absent for a boolean flag. */
  readonly arg?: string;
  /** One line for `--help` and the JSON Schema `description`. */
  readonly help: string;
  /** Default value; absent when the option has none (off, or derived: see `defaultHelp`). */
  readonly default?: unknown;
  /** How `--help` states the default when it is not simply `default`. */
  readonly defaultHelp?: string;
  /** What error messages say the value must be; derived from the schema when absent. */
  readonly expected?: string;
  readonly reload: ReloadClass;
  /** Masked by `broker config check` (and never logged). */
  readonly secret?: boolean;
  /**
   * A file path: a relative path in a config file is resolved against the file's folder.
   * `at-file`: only the `@path` form of the value is a path (`--plugin-config @file`).
   */
  readonly path?: 'file' | 'at-file';
  /** The flag may be repeated: into a list (`listen`), or into a map through `name=value` (`upstream`). */
  readonly repeat?: 'list' | 'map';
  /** `broker serve` needs it (from a flag, the environment or the file). */
  readonly required?: boolean;
}

/** Metadata of every option schema in `OPTION_SHAPE`. */
const optionMeta = z.registry<OptionMeta>();

function required<S extends z.ZodType>(schema: S, meta: OptionMeta): S {
  optionMeta.add(schema, { ...meta, required: true });
  return schema;
}

function optional<S extends z.ZodType>(schema: S, meta: OptionMeta): z.ZodOptional<S> {
  const wrapped = schema.optional();
  optionMeta.add(wrapped, meta);
  return wrapped;
}

const int = (min: number, max: number) => z.int().min(min).max(max);

/** One `--listen` URL, parsed into a `ListenerSpec` (transport/listen-url.ts says what is valid). */
const listenUrl = z.string().transform((text, ctx): ListenerSpec => {
  const r = tryParseListenUrl(text);
  if (!('problem' in r)) return r;
  ctx.addIssue({ code: 'custom', message: `must be ${r.problem}` });
  return z.NEVER;
});

/** `scheme://host[:port]` with nothing after it, as browsers send in `Origin`. */
function isOrigin(text: string): boolean {
  try {
    const u = new URL(text);
    return u.origin !== 'null' && u.origin === text.replace(/\/$/, '').toLowerCase();
  } catch {
    return false;
  }
}

/** Allowed `Origin`s, as a list or comma-separated text (the flag). */
const originList = z.union([z.string(), z.array(z.string())]).transform((value, ctx): string[] => {
  const items = (typeof value === 'string' ? value.split(',') : value).map((x) => x.trim()).filter((x) => x !== '');
  for (const origin of items) {
    if (!isOrigin(origin))
      ctx.addIssue({ code: 'custom', message: `must be origins as scheme://host[:port] (https://app.example.com); '${origin}' is not one` });
  }
  return items;
});
/** `host:port` or `[v6]:port` of `adminListen`. */
const ADMIN_LISTEN_PATTERN = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d{1,5})$/;
const ms = (max: number) => int(0, max);
const count = () => int(0, Number.MAX_SAFE_INTEGER);

/**
 * The options, in `--help` order. Each property's TSDoc is what library users see on
 * `BrokerOptions`; `help` is what CLI users see.
 */
export const OPTION_SHAPE = {
  /**
   * Path of the plugin component (`.wasm`), or a list of paths for a plugin chain: every one but
   * the last is a filter (world `filter`) in front of the next, the last is the application
   * (docs/plugin-chains.md). A list of one is the path itself. Required.
   */
  plugin: required(
    z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .transform((value): string | string[] => (Array.isArray(value) && value.length === 1 ? value[0] : value)),
    {
      arg: '<file.wasm>',
      help: 'plugin component to run (build one with `broker build`); repeat for a chain: filters first, the application last',
      expected: 'a path to a .wasm component, or a list of them',
      reload: 'swap',
      path: 'file',
      repeat: 'list',
    },
  ),
  /** Text handed to the plugin's `start(config)`; the CLI reads `@path` from a file. Default: empty. */
  pluginConfig: optional(z.string(), {
    arg: '<text|@file>',
    help: "text passed to the plugin's start(config); @path reads a file",
    default: '',
    reload: 'swap',
    secret: true,
    path: 'at-file',
  }),
  /** `inline` (plugin on the I/O thread) or `worker` (a worker thread, preemptible). Default `inline`. */
  isolation: optional(z.enum(ISOLATION_MODES), {
    arg: '<mode>',
    help: 'inline: the plugin runs on the I/O thread (fastest; only --plugin-call-fuel stops a runaway call); worker: in a worker thread, a call over --plugin-call-budget-ms is stopped',
    default: 'inline',
    reload: 'restart',
  }),
  /** CPU budget of one plugin call in ms; enforced in `worker` isolation only (setting it inline is an error). Default 1000. */
  pluginCallBudgetMs: optional(int(1, 3_600_000), {
    arg: '<ms>',
    help: `CPU budget of one plugin call; over it the worker is terminated and --on-plugin-failure applies (worker isolation only; start gets ${PLUGIN_START_BUDGET_FACTOR}×)`,
    default: DEFAULT_PLUGIN_CALL_BUDGET_MS,
    reload: 'restart',
  }),
  /**
   * Fuel per plugin call, in steps (loop iterations and function calls): a counter compiled into
   * the module stops a call that uses it up, on any thread (the CPU budget of inline mode). Absent
   * or 0: no counter (default).
   */
  pluginCallFuel: optional(int(0, 0x7fffffff), {
    arg: '<steps>',
    help: 'fuel per plugin call: a counter compiled into the plugin stops a call after this many loop iterations and calls, also inline (0: no counter)',
    defaultHelp: 'off',
    reload: 'restart',
  }),
  /** Cap on the plugin's linear memory in MiB; `memory.grow` fails above it. Default 64. */
  pluginMemoryMaxMb: optional(int(1, PLUGIN_MEMORY_MAX_MB_CEILING), {
    arg: '<n>',
    help: "cap on the plugin's linear memory in MiB; memory.grow fails above it and the plugin traps",
    default: DEFAULT_PLUGIN_MEMORY_MAX_MB,
    reload: 'restart',
  }),
  /** `reload` (restart, keep channels), `close` (restart, close the channels it knew) or `fail-closed`. Default `reload`. */
  onPluginFailure: optional(z.enum(FAILURE_POLICIES), {
    arg: '<policy>',
    help: 'after a trap or timeout: reload (fresh instance, channels kept), close (fresh instance, its channels closed), fail-closed (refuse everything until SIGHUP)',
    default: 'reload',
    reload: 'restart',
  }),
  /** Address of the default `tcp://` listener (used when `listen` is absent). Default `127.0.0.1`. */
  host: optional(z.string().min(1), {
    arg: '<address>',
    help: 'address of the default tcp:// listener, when no --listen is given',
    default: DEFAULT_HOST,
    expected: 'a host name or IP address',
    reload: 'restart',
  }),
  /** Port of the default `tcp://` listener (used when `listen` is absent); 0 picks a free one. Default 10241. */
  port: optional(int(0, 65535), {
    arg: '<n>',
    help: 'port of the default tcp:// listener, when no --listen is given (0 picks a free one)',
    default: DEFAULT_PORT,
    reload: 'restart',
  }),
  // --- listeners (issue #10) ---------------------------------------------------------------
  /**
   * Listeners as URLs: `tcp://host:port`, `tls://host:port` (either with `?framing=decimal|binary`),
   * `ws://host:port/path`, `wss://host:port/path`; port 0 picks a free one. All feed the same
   * plugin, groups, upstreams and limits. Absent: one `tcp://host:port` from `host`/`port`, which
   * may then not be given as well.
   */
  listen: optional(z.array(listenUrl).min(1), {
    arg: '<url>',
    help: 'a listener: tcp://host:port or tls://host:port (add ?framing=binary for 4-byte big-endian lengths), ws://host:port/path, wss://host:port/path; replaces --host/--port',
    defaultHelp: 'tcp://<--host>:<--port>',
    expected: 'a list of listener URLs',
    reload: 'restart',
    repeat: 'list',
  }),
  /** PEM certificate (chain) file of `tls://` and `wss://` listeners (required by them). */
  tlsCert: optional(z.string().min(1), {
    arg: '<file.pem>',
    help: 'PEM certificate (chain) of the tls:// and wss:// listeners',
    defaultHelp: 'none',
    reload: 'restart',
    path: 'file',
  }),
  /** PEM private key file of `tlsCert` (unencrypted). */
  tlsKey: optional(z.string().min(1), {
    arg: '<file.pem>',
    help: 'PEM private key of --tls-cert (unencrypted)',
    defaultHelp: 'none',
    reload: 'restart',
    path: 'file',
  }),
  /** Negotiate permessage-deflate on `ws://`/`wss://` when a client offers it. Default false. */
  wsCompression: optional(z.boolean(), {
    help: 'negotiate permessage-deflate on ws:// and wss:// listeners when the client offers it (costs CPU and memory per connection)',
    default: false,
    defaultHelp: 'off',
    reload: 'restart',
  }),
  /**
   * `Origin`s browsers may open `ws://`/`wss://` connections from (`https://app.example.com`), as a
   * list or comma-separated text; others get 403. Empty (default): any. Clients that send no
   * `Origin` (not browsers) are not affected.
   */
  wsAllowedOrigins: optional(originList, {
    arg: '<a,b,…>',
    help: 'browser Origins allowed on ws:// and wss:// (comma-separated, e.g. https://app.example.com); others get 403',
    default: [],
    defaultHelp: 'any',
    reload: 'restart',
  }),
  /** A TLS handshake or WebSocket upgrade not finished this long after the TCP accept is closed, ms. Default 10000. */
  handshakeTimeoutMs: optional(int(1, 3_600_000), {
    arg: '<ms>',
    help: 'close a connection whose TLS handshake or WebSocket upgrade has not finished this long after it was accepted',
    default: DEFAULT_HANDSHAKE_TIMEOUT_MS,
    reload: 'restart',
  }),
  // ------------------------------------------------------------------------------------------
  /** Listen backlog. Default 4096. */
  listenBacklog: optional(int(1, 65535), {
    arg: '<n>',
    help: 'listen backlog (connections the kernel queues before accept)',
    default: DEFAULT_LISTEN_BACKLOG,
    reload: 'restart',
  }),
  /** Largest frame body in bytes, inbound and outbound. Default 1 MiB. */
  maxFrameBytes: optional(int(1, MAX_FRAME_BYTES_CEILING), {
    arg: '<n>',
    help: 'largest frame body accepted or sent, in bytes; a peer that declares more is disconnected (protocol-error)',
    default: DEFAULT_MAX_FRAME_BYTES,
    reload: 'restart',
  }),
  /**
   * Bytes that may wait for one slow peer before `channel-send` returns false. Default 8 MiB, or
   * twice `maxFrameBytes` when that is larger.
   */
  maxOutboundBytes: optional(int(1, Number.MAX_SAFE_INTEGER), {
    arg: '<n>',
    help: 'bytes that may queue for one peer before channel-send returns false',
    default: DEFAULT_MAX_OUTBOUND_BYTES,
    defaultHelp: `${DEFAULT_MAX_OUTBOUND_BYTES}, or twice --max-frame-bytes if larger`,
    reload: 'restart',
  }),
  /** Bytes of channel data (`channel-set-data`) the broker keeps per channel; larger sets return false. Default 4096. */
  channelDataMaxBytes: optional(int(0, CHANNEL_DATA_MAX_BYTES_CEILING), {
    arg: '<n>',
    help: 'bytes of channel data (channel-set-data) the broker keeps per channel; a larger set returns false',
    default: DEFAULT_CHANNEL_DATA_MAX_BYTES,
    reload: 'restart',
  }),
  /**
   * Record every event the plugin sees and every host call it makes to this JSON Lines file, for
   * `broker test --replay` (docs/testkit.md, "Record and replay"). Default: off.
   */
  record: optional(z.string().min(1), {
    arg: '<file.jsonl>',
    help: 'record every event the plugin sees and every host call it makes to this JSON Lines file (broker test --replay replays it)',
    defaultHelp: 'off',
    reload: 'restart',
    path: 'file',
  }),
  /** Most bytes `record` writes; the recording then ends with a `truncated` line. Default 64 MiB. */
  recordMaxBytes: optional(int(1024, Number.MAX_SAFE_INTEGER), {
    arg: '<n>',
    help: 'most bytes --record writes; then it stops with a truncated line',
    default: DEFAULT_RECORD_MAX_BYTES,
    reload: 'restart',
  }),
  /** Leave frame bodies and channel data out of the recording (only their sizes). Default false. */
  recordOmitPayloads: optional(z.boolean(), {
    help: 'leave frame bodies and channel data out of the --record file (their sizes stay); such a recording cannot be replayed',
    default: false,
    defaultHelp: 'off',
    reload: 'restart',
  }),
  /** Send a heartbeat after this much inbound silence, ms; 0 disables. Default 15000. */
  pingIntervalMs: optional(ms(86_400_000), {
    arg: '<ms>',
    help: 'send a heartbeat (0\\n) after this much inbound silence; 0 disables',
    default: DEFAULT_PING_INTERVAL_MS,
    reload: 'restart',
  }),
  /** Close a connection without any inbound frame for this long (heartbeat-timeout), ms; 0 disables. Default 45000. */
  idleTimeoutMs: optional(ms(86_400_000), {
    arg: '<ms>',
    help: 'close a connection that sent no frame, not even a heartbeat, for this long (heartbeat-timeout); 0 disables',
    default: DEFAULT_IDLE_TIMEOUT_MS,
    reload: 'restart',
  }),
  /** Close connections the plugin has not authenticated within this many ms (auth-timeout); 0 disables. Default 0. */
  authDeadlineMs: optional(ms(86_400_000), {
    arg: '<ms>',
    help: 'close connections the plugin has not authenticated (channel-authenticate) within this time (auth-timeout); 0 disables',
    default: 0,
    reload: 'restart',
  }),
  /** Frames an unauthenticated connection may hand the plugin (with an auth deadline). Default 8. */
  preAuthMaxFrames: optional(int(1, Number.MAX_SAFE_INTEGER), {
    arg: '<n>',
    help: 'with an auth deadline: frames an unauthenticated connection may hand the plugin before it is closed (auth-timeout)',
    default: DEFAULT_PRE_AUTH_MAX_FRAMES,
    reload: 'restart',
  }),
  /** Body bytes an unauthenticated connection may hand the plugin (with an auth deadline). Default 64 KiB. */
  preAuthMaxBytes: optional(count(), {
    arg: '<n>',
    help: 'with an auth deadline: body bytes an unauthenticated connection may hand the plugin',
    default: DEFAULT_PRE_AUTH_MAX_BYTES,
    reload: 'restart',
  }),
  /** Frames per second per connection; 0 disables. Default 0. */
  rateFrames: optional(count(), { arg: '<n>', help: 'frames per second per connection (token bucket); 0 disables', default: 0, reload: 'live' }),
  /** Body bytes per second per connection; 0 disables. Default 0. */
  rateBytes: optional(count(), { arg: '<n>', help: 'body bytes per second per connection (token bucket); 0 disables', default: 0, reload: 'live' }),
  /** Rate bucket capacity, in seconds of the rate (bursts). Default 2. */
  rateBurst: optional(z.number().gt(0).max(3600), {
    arg: '<seconds>',
    help: 'rate bucket capacity, in seconds of the rate (how much a peer may burst)',
    default: DEFAULT_RATE_BURST,
    reload: 'live',
  }),
  /** Over the rate: close the connection (rate-limited) or drop the frame. Default close. */
  rateAction: optional(z.enum(RATE_ACTIONS), {
    arg: '<action>',
    help: 'over the rate: close the connection (rate-limited) or drop the frame and count it',
    default: 'close',
    reload: 'live',
  }),
  /** Open connections at most; 0 = no cap. Default 19000. */
  maxConnections: optional(count(), {
    arg: '<n>',
    help: 'open connections at most; further ones are closed at once; 0 = no cap',
    default: DEFAULT_MAX_CONNECTIONS,
    reload: 'live',
  }),
  /** Open connections per client IP at most; 0 = no cap. Default 0. */
  maxConnectionsPerIp: optional(count(), { arg: '<n>', help: 'open connections per client IP at most; 0 = no cap', default: 0, reload: 'live' }),
  /** New connections per second per client IP (bursts up to the same number); 0 = no cap. Default 0. */
  acceptRatePerIp: optional(count(), {
    arg: '<n>',
    help: 'new connections per second per client IP (bursts up to n); 0 = no cap',
    default: 0,
    reload: 'live',
  }),
  /** How long a drain (stop, SIGTERM) lets outbound queues flush before closing channels, ms. Default 5000. */
  drainTimeoutMs: optional(ms(3_600_000), {
    arg: '<ms>',
    help: 'on SIGTERM/SIGINT: how long queued frames may take to reach their peers before every channel is closed',
    default: DEFAULT_DRAIN_TIMEOUT_MS,
    reload: 'restart',
  }),
  /**
   * Upstream services by logical name (`upstream-open`): each maps to its nodes and a policy,
   * either as an object or as the CLI's text `host:port,host:port[/policy]`
   * (`{ logic: '127.0.0.1:7001,127.0.0.1:7002/least-connections' }`). Policy default: round-robin.
   */
  upstream: optional(upstreamSchema, {
    arg: '<name=host:port,…[/policy]>',
    help: 'an upstream service the plugin opens channels to by name (upstream-open); repeat for more services; policy: round-robin (default), least-connections or consistent-hash',
    default: {},
    defaultHelp: 'none',
    reload: 'live',
    repeat: 'map',
  }),
  // Cluster (#12, docs/cluster.md) ----------------------------------------------------------------
  /**
   * NATS servers to join a cluster of brokers through: `nats://[user:pass@]host[:port]` URLs, as a
   * list or one comma-separated string. Empty (default): no cluster, one broker, no NATS.
   */
  cluster: optional(clusterServersSchema, {
    arg: '<nats-urls>',
    help: 'join a cluster of brokers over NATS: nats://host:port[,nats://host:port…]; groups span the nodes (docs/cluster.md)',
    default: [],
    defaultHelp: 'none',
    reload: 'restart',
    secret: true,
  }),
  /** This node's id in the cluster (1 to 64 of `[A-Za-z0-9_-]`). Default: host name and pid. */
  nodeId: optional(nodeIdSchema, {
    arg: '<id>',
    help: 'this node in the cluster (A-Z a-z 0-9 _ -); with --processes: <id>-<index>',
    defaultHelp: 'host name and pid',
    reload: 'restart',
  }),
  /** Cluster name: namespaces every subject (`pb.<name>.…`), so clusters can share one NATS. Default `plugbroker`. */
  clusterName: optional(clusterNameSchema, {
    arg: '<name>',
    help: "namespaces the cluster's NATS subjects, so clusters can share one NATS",
    default: DEFAULT_CLUSTER_NAME,
    reload: 'restart',
  }),
  /**
   * Broker processes for `broker serve` to start on this machine (`auto`: one per core), sharing
   * the listeners and joined through `cluster` (needed). A `Broker` object itself is always one
   * process: the option is read by `broker serve`. Default: none (one process, no primary).
   */
  processes: optional(processesSchema, {
    arg: '<n|auto>',
    help: 'start n broker processes sharing the listeners (auto: one per core), joined through --cluster',
    defaultHelp: 'none (one process)',
    reload: 'restart',
  }),
  /**
   * How often a node announces itself, ms; a node silent for 3 intervals is lost and its
   * memberships vanish from the others (within 3.5 intervals). Default 2000, at most 4000.
   */
  clusterPresenceIntervalMs: optional(presenceIntervalSchema, {
    arg: '<ms>',
    help: 'how often a node announces itself; a node silent for 3 intervals is lost and its memberships dropped',
    default: DEFAULT_CLUSTER_PRESENCE_INTERVAL_MS,
    reload: 'restart',
  }),
  /** pino level. Default `info`. Ignored when `logger` is given. */
  logLevel: optional(z.enum(LOG_LEVELS), { arg: '<level>', help: 'log verbosity', default: 'info', reload: 'live' }),
  // Operations (#11): the admin listener and the close summary line (docs/admin.md).
  /**
   * `host:port` of the admin HTTP listener (`/metrics`, `/healthz`, `/readyz`, `/api/v1`, the
   * dashboard at `/`); `[::1]:9100` for IPv6; port 0 picks a free one. Absent: no admin listener.
   */
  adminListen: optional(
    z
      .string()
      .regex(ADMIN_LISTEN_PATTERN, { message: 'must be host:port (or [v6]:port), port 0 to 65535' })
      .transform((text) => {
        const m = ADMIN_LISTEN_PATTERN.exec(text)!;
        return Object.freeze({ host: m[1] ?? m[2], port: Number(m[3]) });
      })
      .refine((a) => a.port <= 65535, { message: 'must be host:port (or [v6]:port), port 0 to 65535' }),
    {
      arg: '<host:port>',
      help: 'admin HTTP listener: /metrics (Prometheus), /healthz, /readyz, the admin API under /api/v1 and a live dashboard at /; a non-loopback address needs --admin-token or --admin-token-file',
      defaultHelp: 'off',
      reload: 'restart',
    },
  ),
  /** Bearer token the admin listener requires; needed when `adminListen` is not a loopback address. */
  adminToken: optional(z.string().regex(/^[\x21-\x7e]+$/, { message: 'must be a non-empty token of printable ASCII characters without spaces' }), {
    arg: '<token>',
    help: 'bearer token the admin listener requires (Authorization: Bearer <token>); prefer --admin-token-file',
    defaultHelp: 'none',
    reload: 'restart',
    secret: true,
  }),
  /** A file holding the admin token (one trailing newline dropped), read at start; instead of `adminToken`. */
  adminTokenFile: optional(z.string().min(1), {
    arg: '<file>',
    help: 'file holding the admin token (a trailing newline is dropped)',
    defaultHelp: 'none',
    reload: 'restart',
    path: 'file',
  }),
  /** Interval of the `closed connections` log line (client closes by reason), ms; 0 disables. Default 10000. */
  closeSummaryIntervalMs: optional(ms(86_400_000), {
    arg: '<ms>',
    help: 'log one info line per interval with the connections closed, by reason; 0 disables',
    default: DEFAULT_CLOSE_SUMMARY_INTERVAL_MS,
    reload: 'restart',
  }),
};

/** The name of an option in `BrokerOptions` (camelCase). */
export type OptionKey = keyof typeof OPTION_SHAPE;

/** Every option: the zod object the library, the CLI and the config file validate against. */
export const OPTIONS_SCHEMA = z.strictObject(OPTION_SHAPE);

/** Options of `createBroker`. Only `plugin` is required. */
export type BrokerOptions = z.input<typeof OPTIONS_SCHEMA> & {
  /** A pino logger to use instead of the default one (stdout JSON); `logLevel` is then not applied. */
  logger?: Logger;
};

type Output = z.output<typeof OPTIONS_SCHEMA>;

/** Options without a default that stay absent when not given. */
type Unset = 'pluginCallFuel' | 'adminListen' | 'adminToken' | 'adminTokenFile' | 'tlsCert' | 'tlsKey' | 'processes';

/** Every option, resolved and validated: each has its value or its default. */
export type ResolvedOptions = Readonly<Required<Omit<Output, Unset>>> &
  Readonly<Pick<Output, Unset>> & {
    readonly logger: Logger | undefined;
  };

/** An option with everything the CLI, the file and the messages need. */
export interface OptionDef {
  readonly key: OptionKey;
  /** `--max-frame-bytes` */
  readonly flag: string;
  /** `max-frame-bytes` */
  readonly fileKey: string;
  /** `PLUGBROKER_MAX_FRAME_BYTES` */
  readonly envVar: string;
  /** The value's schema (not optional). */
  readonly schema: z.ZodType;
  readonly meta: OptionMeta;
}

/** Prefix of the environment variables. */
export const ENV_PREFIX = 'PLUGBROKER_';

/** `maxFrameBytes` → `max-frame-bytes`. */
export function kebabCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Every option, in `OPTION_SHAPE` order. */
export const OPTION_DEFS: readonly OptionDef[] = Object.freeze(
  (Object.keys(OPTION_SHAPE) as OptionKey[]).map((key) => {
    const wrapped = OPTION_SHAPE[key] as z.ZodType;
    const meta = optionMeta.get(wrapped);
    if (meta === undefined) throw new Error(`option ${key} has no metadata`);
    const fileKey = kebabCase(key);
    const schema = wrapped instanceof z.ZodOptional ? (wrapped.unwrap() as z.ZodType) : wrapped;
    return Object.freeze({ key, flag: `--${fileKey}`, fileKey, envVar: ENV_PREFIX + fileKey.replaceAll('-', '_').toUpperCase(), schema, meta });
  }),
);

/** The definition of option `key`. */
export const OPTION_BY_KEY: ReadonlyMap<OptionKey, OptionDef> = new Map(OPTION_DEFS.map((d) => [d.key, d]));

/** Options by config-file key (`max-frame-bytes`). */
export const OPTION_BY_FILE_KEY: ReadonlyMap<string, OptionDef> = new Map(OPTION_DEFS.map((d) => [d.fileKey, d]));

/**
 * Defaults of every option that has one. `maxOutboundBytes` is raised to twice `maxFrameBytes`
 * when that is larger and it was not given (`resolveOptions`).
 */
export const DEFAULTS = Object.freeze(
  Object.fromEntries(OPTION_DEFS.filter((d) => d.meta.default !== undefined).map((d) => [d.key, d.meta.default])),
) as Readonly<Omit<Required<Output>, 'plugin' | 'listen' | 'nodeId' | Unset>>;
