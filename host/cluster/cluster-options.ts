/**
 * The schemas of the cluster options (`--cluster`, `--node-id`, `--cluster-name`, `--processes`,
 * `--cluster-presence-interval-ms`) for the option schema (host/config/schema.ts). Pure.
 */
import { availableParallelism, hostname } from 'node:os';
import * as z from 'zod';
import { MAX_CLUSTER_PRESENCE_INTERVAL_MS, MAX_CLUSTER_TOKEN_CHARS, MIN_CLUSTER_PRESENCE_INTERVAL_MS } from '../limits.js';
import { isClusterToken } from './subjects.js';

/** Default NATS port when a `--cluster` URL names none. */
const NATS_DEFAULT_PORT = 4222;

/** Most broker processes `--processes` may start (each needs its own memory and files). */
export const MAX_PROCESSES = 256;

/** What the messages say a `--cluster` value must be. */
export const CLUSTER_EXPECTED = 'nats://host:port[,nats://host:port…]';

/**
 * `--cluster` as given (one string, comma-separated, or a list) → normalised `nats://host:port`
 * URLs (credentials kept), or what is wrong with it. An empty string or list means no cluster.
 */
export function parseClusterServers(value: unknown): { servers: string[] } | { error: string } {
  if (value === undefined) return { servers: [] };
  const items: unknown[] | null = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : null;
  if (items === null) return { error: CLUSTER_EXPECTED };
  const servers: string[] = [];
  for (const raw of items) {
    if (typeof raw !== 'string') return { error: `${CLUSTER_EXPECTED} (a list of URL strings)` };
    const text = raw.trim();
    if (text.length === 0) continue;
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return { error: `${CLUSTER_EXPECTED} (${JSON.stringify(text)} is not a URL)` };
    }
    if (url.protocol !== 'nats:') return { error: `${CLUSTER_EXPECTED} (${JSON.stringify(text)}: the scheme must be nats://)` };
    if (url.hostname.length === 0) return { error: `${CLUSTER_EXPECTED} (${JSON.stringify(text)} has no host)` };
    if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
      return { error: `${CLUSTER_EXPECTED} (${JSON.stringify(text)}: no path, query or fragment)` };
    }
    const port = url.port === '' ? NATS_DEFAULT_PORT : Number(url.port);
    const auth = url.username === '' ? '' : `${url.username}${url.password === '' ? '' : `:${url.password}`}@`;
    servers.push(`nats://${auth}${url.hostname}:${port}`);
  }
  if (items.some((i) => typeof i === 'string' && i.trim() !== '') && servers.length === 0) return { error: CLUSTER_EXPECTED };
  if (typeof value === 'string' && value.trim() !== '' && servers.length === 0) return { error: CLUSTER_EXPECTED };
  return { servers };
}

/** The `cluster` option: a string or a list → normalised URLs (empty: no cluster). */
export const clusterServersSchema = z.union([z.string(), z.array(z.string())]).transform((value, ctx): readonly string[] => {
  const r = parseClusterServers(value);
  if ('error' in r) {
    ctx.issues.push({ code: 'custom', message: `must be ${r.error}`, input: value });
    return z.NEVER;
  }
  return Object.freeze(r.servers);
});

const TOKEN_EXPECTED = `1 to ${MAX_CLUSTER_TOKEN_CHARS} characters of A-Z a-z 0-9 _ - (one NATS subject token)`;

/** The `nodeId` option. */
export const nodeIdSchema = z.string().refine(isClusterToken, { error: `must be ${TOKEN_EXPECTED}` });

/** The `clusterName` option. */
export const clusterNameSchema = z.string().refine(isClusterToken, { error: `must be ${TOKEN_EXPECTED}` });

/** The default node id: host name and process id, as one subject token (`web-1_example_com-4242`). */
export function defaultNodeId(pid: number = process.pid): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, '_');
  const suffix = `-${pid}`;
  return `${host.slice(0, MAX_CLUSTER_TOKEN_CHARS - suffix.length) || 'node'}${suffix}`;
}

const PROCESSES_EXPECTED = `a number of processes from 1 to ${MAX_PROCESSES}, or auto`;

/** `--processes`: a count from 1, or `auto` (the cores this process may use); undefined when it is neither. */
export function resolveProcesses(value: unknown): number | undefined {
  if (value === 'auto') return availableParallelism();
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_PROCESSES ? n : undefined;
}

/** The `processes` option: a count (number or digits) or `auto` → a count. */
export const processesSchema = z.union([z.number(), z.string()]).transform((value, ctx): number => {
  const n = resolveProcesses(value);
  if (n === undefined) {
    ctx.issues.push({ code: 'custom', message: `must be ${PROCESSES_EXPECTED}`, input: value });
    return z.NEVER;
  }
  return n;
});

/** The `clusterPresenceIntervalMs` option (a node is lost after 3.5 intervals at most: within 15 s at the maximum). */
export const presenceIntervalSchema = z.int().min(MIN_CLUSTER_PRESENCE_INTERVAL_MS).max(MAX_CLUSTER_PRESENCE_INTERVAL_MS);
