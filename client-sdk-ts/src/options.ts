/**
 * Client options: what a caller may pass (`BrokerClientOptions`, all optional), the defaults, and
 * `resolveClientOptions`, which checks everything once, in the constructor, before any socket
 * exists (after nats.js core/src/options.ts).
 */
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { isCloseReason, TERMINAL_REASONS, type CloseReason } from './close-reason.js';
import { InvalidOptionError } from './errors.js';

/** Options of `new BrokerClient(url, options)`. */
export interface BrokerClientOptions {
  /**
   * Reconnect after the connection is lost or an attempt fails: `true` (default) with the default
   * backoff, `false` never, or the backoff's parts (each optional): `initialDelayMs` (500),
   * `maxDelayMs` (20 000), `maxAttempts` (`Infinity`; retries in a row before giving up).
   */
  reconnect?: boolean | Partial<BackoffPolicy>;
  /** Send a heartbeat after this much silence from the broker, ms; 0 disables. Default 15 000. */
  pingIntervalMs?: number;
  /** Drop the connection (and reconnect) after this much silence from the broker, ms; 0 disables. Default 45 000. */
  idleTimeoutMs?: number;
  /** Give up an attempt whose connection is not open after this long, ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** Largest frame body sent or accepted, bytes. Default 1 MiB (the broker's `--max-frame-bytes` default). */
  maxFrameBytes?: number;
  /**
   * Frames `send()` may hold while the client is not connected, sent in order once it is; 0
   * (default) holds none and `send()` returns false instead. Not kept across `close()`, a terminal
   * reason or giving up.
   */
  offlineQueueMaxFrames?: number;
  /**
   * Close reasons after which the client does not reconnect. Default `TERMINAL_REASONS`:
   * `refused-by-plugin`, `auth-timeout`, `protocol-error`.
   */
  terminalReasons?: readonly CloseReason[];
}

/** Every option resolved and checked. */
export interface ResolvedClientOptions {
  /** Absent when reconnecting is off. */
  readonly reconnect: BackoffPolicy | undefined;
  readonly pingIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly maxFrameBytes: number;
  readonly offlineQueueMaxFrames: number;
  readonly terminalReasons: ReadonlySet<CloseReason>;
}

/** Defaults of the numeric options. */
export const CLIENT_DEFAULTS = Object.freeze({
  pingIntervalMs: 15_000,
  idleTimeoutMs: 45_000,
  connectTimeoutMs: 10_000,
  maxFrameBytes: 1024 * 1024,
  offlineQueueMaxFrames: 0,
});

/** Longest delay a timer can take in browsers and Node (2³¹ − 1 ms, ≈ 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Largest frame the binary header can declare. */
const MAX_FRAME_BYTES = 0xffff_ffff;

const KNOWN = new Set(['reconnect', 'pingIntervalMs', 'idleTimeoutMs', 'connectTimeoutMs', 'maxFrameBytes', 'offlineQueueMaxFrames', 'terminalReasons']);

/**
 * Spreads the defaults under `opts` and checks every field.
 * @param extra option names a platform adds (Node: `tls`, `origin`), checked by the platform.
 * @throws {InvalidOptionError} naming the first option whose value is out of its domain.
 */
export function resolveClientOptions(opts: BrokerClientOptions, extra: readonly string[] = []): ResolvedClientOptions {
  if (opts === null || typeof opts !== 'object') throw new InvalidOptionError('options', opts, 'an object');
  for (const key of Object.keys(opts)) {
    if (!KNOWN.has(key) && !extra.includes(key))
      throw new InvalidOptionError(key, (opts as Record<string, unknown>)[key], `absent: there is no option '${key}'`);
  }
  const pingIntervalMs = ms(opts, 'pingIntervalMs', CLIENT_DEFAULTS.pingIntervalMs, true);
  const idleTimeoutMs = ms(opts, 'idleTimeoutMs', CLIENT_DEFAULTS.idleTimeoutMs, true);
  if (idleTimeoutMs > 0 && pingIntervalMs > 0 && pingIntervalMs >= idleTimeoutMs) {
    throw new InvalidOptionError('pingIntervalMs', pingIntervalMs, `below 'idleTimeoutMs' (${idleTimeoutMs}), or the broker never gets to answer a heartbeat`);
  }
  const connectTimeoutMs = ms(opts, 'connectTimeoutMs', CLIENT_DEFAULTS.connectTimeoutMs, false);
  const maxFrameBytes = opts.maxFrameBytes ?? CLIENT_DEFAULTS.maxFrameBytes;
  if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 1 || maxFrameBytes > MAX_FRAME_BYTES) {
    throw new InvalidOptionError('maxFrameBytes', maxFrameBytes, `an integer from 1 to ${MAX_FRAME_BYTES}`);
  }
  const offlineQueueMaxFrames = opts.offlineQueueMaxFrames ?? CLIENT_DEFAULTS.offlineQueueMaxFrames;
  if (!Number.isInteger(offlineQueueMaxFrames) || offlineQueueMaxFrames < 0) {
    throw new InvalidOptionError('offlineQueueMaxFrames', offlineQueueMaxFrames, 'a non-negative integer');
  }
  const terminal = opts.terminalReasons ?? TERMINAL_REASONS;
  if (!Array.isArray(terminal) || !terminal.every(isCloseReason)) {
    throw new InvalidOptionError('terminalReasons', terminal, 'an array of close-reason names (refused-by-plugin, auth-timeout, …)');
  }
  return Object.freeze({
    reconnect: resolveBackoff(opts.reconnect),
    pingIntervalMs,
    idleTimeoutMs,
    connectTimeoutMs,
    maxFrameBytes,
    offlineQueueMaxFrames,
    terminalReasons: new Set(terminal),
  });
}

function resolveBackoff(value: BrokerClientOptions['reconnect']): BackoffPolicy | undefined {
  if (value === undefined || value === true) return DEFAULT_BACKOFF;
  if (value === false) return undefined;
  if (value === null || typeof value !== 'object')
    throw new InvalidOptionError('reconnect', value, 'true, false or { initialDelayMs, maxDelayMs, maxAttempts }');
  for (const key of Object.keys(value)) {
    if (!(key in DEFAULT_BACKOFF))
      throw new InvalidOptionError(`reconnect.${key}`, (value as Record<string, unknown>)[key], `absent: there is no option 'reconnect.${key}'`);
  }
  const initialDelayMs = value.initialDelayMs ?? DEFAULT_BACKOFF.initialDelayMs;
  if (!Number.isInteger(initialDelayMs) || initialDelayMs < 1 || initialDelayMs > MAX_TIMER_MS) {
    throw new InvalidOptionError('reconnect.initialDelayMs', initialDelayMs, `an integer from 1 to ${MAX_TIMER_MS}`);
  }
  const maxDelayMs = value.maxDelayMs ?? Math.max(DEFAULT_BACKOFF.maxDelayMs, initialDelayMs);
  if (!Number.isInteger(maxDelayMs) || maxDelayMs < initialDelayMs || maxDelayMs > MAX_TIMER_MS) {
    throw new InvalidOptionError('reconnect.maxDelayMs', maxDelayMs, `an integer from 'reconnect.initialDelayMs' (${initialDelayMs}) to ${MAX_TIMER_MS}`);
  }
  const maxAttempts = value.maxAttempts ?? DEFAULT_BACKOFF.maxAttempts;
  if (maxAttempts !== Infinity && (!Number.isInteger(maxAttempts) || maxAttempts < 0)) {
    throw new InvalidOptionError('reconnect.maxAttempts', maxAttempts, 'a non-negative integer or Infinity');
  }
  return Object.freeze({ initialDelayMs, maxDelayMs, maxAttempts });
}

function ms(opts: BrokerClientOptions, key: 'pingIntervalMs' | 'idleTimeoutMs' | 'connectTimeoutMs', fallback: number, zeroAllowed: boolean): number {
  const v = opts[key] ?? fallback;
  const min = zeroAllowed ? 0 : 1;
  if (!Number.isInteger(v) || v < min || v > MAX_TIMER_MS) throw new InvalidOptionError(key, v, `an integer from ${min} to ${MAX_TIMER_MS} (ms)`);
  return v;
}
