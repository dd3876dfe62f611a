/**
 * The `plugbroker:plugin/plugin` world as the host sees it at the core-module level: import and
 * export names, enum orders and where the WIT lives. `wit/plugin.wit` is the contract; this file
 * only mirrors names and discriminant orders from it, and the build checks every plugin against the
 * WIT itself.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Version of the WIT package this broker serves; every core import module carries it. */
export const WIT_VERSION = '0.2.0';
/** WIT package name and version. */
export const WIT_PACKAGE = `plugbroker:plugin@${WIT_VERSION}`;
/** Interface import modules are `plugbroker:plugin/<interface>@<version>`: this matches any version. */
export const WIT_IMPORT_MODULE_PATTERN = /^plugbroker:plugin\/([a-z][a-z0-9-]*)@(\S+)$/;
/** World every plugin implements. */
export const WIT_WORLD = 'plugin';
/** Core import module of the `host` interface. */
export const HOST_IMPORT_MODULE = `plugbroker:plugin/host@${WIT_VERSION}`;
/** Functions of the `host` interface. */
export const HOST_FUNCTIONS: readonly string[] = [
  'channel-send',
  'channel-close',
  'channel-authenticate',
  'log',
  'now-ms',
  'channel-set-data',
  'channel-get-data',
];
/** Functions the world exports (WIT names). */
export const WORLD_EXPORTS: readonly string[] = ['start', 'stop', 'handle-connect', 'handle-msg', 'handle-broken'];
/** World of plugins that can carry their state across a hot swap: `plugin` plus the two below. */
export const WIT_STATEFUL_WORLD = 'stateful-plugin';
/** Exports only `stateful-plugin` has (WIT names). A plugin exports both or neither. */
export const STATEFUL_EXPORTS: readonly string[] = ['snapshot', 'restore'];
/** Core import module of the `groups` interface. */
export const GROUPS_IMPORT_MODULE = `plugbroker:plugin/groups@${WIT_VERSION}`;
/** Functions of the `groups` interface. */
export const GROUPS_FUNCTIONS: readonly string[] = ['group-join', 'group-leave', 'group-send', 'group-size'];
/** Core import module of the `timers` interface. */
export const TIMERS_IMPORT_MODULE = `plugbroker:plugin/timers@${WIT_VERSION}`;
/** Functions of the `timers` interface. */
export const TIMERS_FUNCTIONS: readonly string[] = ['timer-set', 'timer-cancel'];
/** Core import module of the `upstreams` interface. */
export const UPSTREAMS_IMPORT_MODULE = `plugbroker:plugin/upstreams@${WIT_VERSION}`;
/** Functions of the `upstreams` interface. */
export const UPSTREAMS_FUNCTIONS: readonly string[] = ['upstream-open'];
/** Core import module of the `chain` interface (world `filter` only). */
export const CHAIN_IMPORT_MODULE = `plugbroker:plugin/chain@${WIT_VERSION}`;
/** Functions of the `chain` interface. */
export const CHAIN_FUNCTIONS: readonly string[] = ['chain-forward'];
/** Every core import a plugin may have: import module → its functions. */
export const ALLOWED_IMPORTS: ReadonlyMap<string, readonly string[]> = new Map([
  [HOST_IMPORT_MODULE, HOST_FUNCTIONS],
  [GROUPS_IMPORT_MODULE, GROUPS_FUNCTIONS],
  [TIMERS_IMPORT_MODULE, TIMERS_FUNCTIONS],
  [UPSTREAMS_IMPORT_MODULE, UPSTREAMS_FUNCTIONS],
  [CHAIN_IMPORT_MODULE, CHAIN_FUNCTIONS],
]);
/** World of a plugin in front of another in a chain (`--plugin filter.wasm --plugin app.wasm`). */
export const WIT_FILTER_WORLD = 'filter';
/** Exports only `filter` has (WIT names); a module exporting `handle-send` is checked as a filter. */
export const FILTER_EXPORTS: readonly string[] = ['handle-send', 'handle-group-send'];
/** The export of worlds `timed-plugin` and `stateful-timed-plugin`. */
export const TIMER_EXPORT = 'handle-timer';

/** The world a plugin is checked against, from the optional exports its core module has. */
export function worldFor(stateful: boolean, timed: boolean, filter = false): string {
  if (filter) return WIT_FILTER_WORLD;
  if (timed) return stateful ? 'stateful-timed-plugin' : 'timed-plugin';
  return stateful ? WIT_STATEFUL_WORLD : WIT_WORLD;
}
/** Core exports the canonical ABI needs besides the world's functions. */
export const ABI_EXPORTS: readonly string[] = ['memory', 'cabi_realloc'];

/** `close-reason` in WIT order: the index is the discriminant. */
export const CLOSE_REASONS = [
  'peer-closed',
  'protocol-error',
  'closed-by-plugin',
  'refused-by-plugin',
  'heartbeat-timeout',
  'auth-timeout',
  'rate-limited',
  'slow-consumer',
  'plugin-failed',
  'shutdown',
  'closed-by-operator',
] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

/** `log-level` in WIT order. */
export const PLUGIN_LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type PluginLogLevel = (typeof PLUGIN_LOG_LEVELS)[number];

/** `transport-kind` in WIT order. */
export const TRANSPORT_KINDS = ['tcp', 'websocket'] as const;
export type TransportKind = (typeof TRANSPORT_KINDS)[number];

/** `peer-info` record. */
export interface PeerInfo {
  readonly address: string;
  readonly port: number;
  readonly transport: TransportKind;
  /** Came through a `tls://` or `wss://` listener. */
  readonly secure: boolean;
  readonly resumed: boolean;
}

/** Discriminant of a close reason, as passed to `handle-broken`. */
export function closeReasonCode(reason: CloseReason): number {
  return CLOSE_REASONS.indexOf(reason);
}

let witDir: string | undefined;

/** Absolute path of the `wit/` folder of this package (works from sources and from `dist/`). */
export function findWitDir(): string {
  if (witDir !== undefined) return witDir;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'wit', 'plugin.wit'))) return (witDir = join(dir, 'wit'));
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find wit/plugin.wit above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}
