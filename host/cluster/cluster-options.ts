/**
 * Validation of the cluster options (`--cluster`, `--node-id`, `--cluster-name`, `--processes`,
 * `--cluster-presence-interval-ms`) for `resolveOptions` (config.ts). Pure.
 */
import { availableParallelism, hostname } from 'node:os';
import { InvalidOptionError } from '../errors.js';
import { MAX_CLUSTER_PRESENCE_INTERVAL_MS, MAX_CLUSTER_TOKEN_CHARS, MIN_CLUSTER_PRESENCE_INTERVAL_MS } from '../limits.js';
import { isClusterToken } from './subjects.js';

/** Default NATS port when a `--cluster` URL names none. */
const NATS_DEFAULT_PORT = 4222;

/** Most broker processes `--processes` may start (each needs its own memory and files). */
export const MAX_PROCESSES = 256;

/**
 * `--cluster` as given (one string, comma-separated, or a list) → normalised `nats://host:port`
 * URLs (credentials kept). An empty string or list means no cluster.
 * @throws {InvalidOptionError} for anything but `nats://[user:pass@]host[:port]`.
 */
export function parseClusterServers(value: unknown): string[] {
  if (value === undefined) return [];
  const items = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : null;
  if (items === null) throw new InvalidOptionError('cluster', value, 'nats://host:port[,nats://host:port…]');
  const out: string[] = [];
  for (const raw of items) {
    if (typeof raw !== 'string') throw new InvalidOptionError('cluster', raw, 'a nats://host:port URL');
    const text = raw.trim();
    if (text.length === 0) continue;
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new InvalidOptionError('cluster', text, 'a nats://host:port URL');
    }
    if (url.protocol !== 'nats:') throw new InvalidOptionError('cluster', text, 'a URL with the scheme nats:// (for example nats://127.0.0.1:4222)');
    if (url.hostname.length === 0) throw new InvalidOptionError('cluster', text, 'a nats://host:port URL with a host');
    if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
      throw new InvalidOptionError('cluster', text, 'a nats://host:port URL without a path, query or fragment');
    }
    const port = url.port === '' ? NATS_DEFAULT_PORT : Number(url.port);
    const auth = url.username === '' ? '' : `${url.username}${url.password === '' ? '' : `:${url.password}`}@`;
    out.push(`nats://${auth}${url.hostname}:${port}`);
  }
  if (items.length > 0 && out.length === 0) throw new InvalidOptionError('cluster', value, 'at least one nats://host:port URL');
  return out;
}

/** The default node id: host name and process id, as one subject token (`web-1_example_com-4242`). */
export function defaultNodeId(pid: number = process.pid): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, '_');
  const suffix = `-${pid}`;
  return `${host.slice(0, MAX_CLUSTER_TOKEN_CHARS - suffix.length) || 'node'}${suffix}`;
}

/** @throws {InvalidOptionError} unless `value` is a node id or cluster name (1 to 64 of `[A-Za-z0-9_-]`). */
export function checkClusterToken(option: 'nodeId' | 'clusterName', value: unknown): string {
  if (!isClusterToken(value))
    throw new InvalidOptionError(option, value, `1 to ${MAX_CLUSTER_TOKEN_CHARS} characters of A-Z a-z 0-9 _ - (one NATS subject token)`);
  return value;
}

/**
 * `--processes`: a count from 1, or `auto` (the cores this process may use).
 * @throws {InvalidOptionError}
 */
export function resolveProcesses(value: unknown): number {
  if (value === 'auto') return availableParallelism();
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_PROCESSES) {
    throw new InvalidOptionError('processes', value, `a number of processes from 1 to ${MAX_PROCESSES}, or auto`);
  }
  return n;
}

/** @throws {InvalidOptionError} unless a presence interval in range. */
export function checkPresenceInterval(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_CLUSTER_PRESENCE_INTERVAL_MS || value > MAX_CLUSTER_PRESENCE_INTERVAL_MS) {
    throw new InvalidOptionError(
      'clusterPresenceIntervalMs',
      value,
      `an integer from ${MIN_CLUSTER_PRESENCE_INTERVAL_MS} to ${MAX_CLUSTER_PRESENCE_INTERVAL_MS} (a node is lost after 3 intervals of silence, within 15 s)`,
    );
  }
  return value;
}
