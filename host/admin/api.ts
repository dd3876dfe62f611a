/**
 * The admin API under `/api/v1` (issue #11 lists every path; they are a contract): read calls are
 * GET, every call that changes something is POST and is logged with the caller's address.
 *
 * | method | path | answer |
 * |---|---|---|
 * | GET | status | version, uptime, phase, listeners, connections, traffic, plugin, groups, upstreams |
 * | GET | channels?limit&cursor&group&address&authenticated | a page of client channels |
 * | GET | channels/<id> | one channel (404 when unknown) |
 * | POST | channels/<id>/close | closes it with `closed-by-operator` |
 * | POST | plugin/reload `{ "path"? }` | hot swap, as SIGHUP |
 * | POST | drain `{ "graceMs"? }` | lame duck, then stop |
 * | GET | groups?limit&cursor | names and sizes |
 * | GET | upstreams | services and node states |
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { AdminRequestError, BrokerError } from '../errors.js';
import { MAX_CHANNEL_ID } from '../limits.js';
import type { AdminTarget, ChannelEntry, ChannelRecord } from './admin-target.js';
import { onlyKeys, readJsonObject, sendJson } from './http.js';
import { pageOf, parsePageQuery } from './paging.js';

/** What a handler gets. */
export interface ApiRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The path below `/api/v1/`, split on `/`. */
  readonly segments: readonly string[];
  readonly query: URLSearchParams;
  /** `address:port` of the caller, for the log. */
  readonly remote: string;
}

type Handler = (target: AdminTarget, r: ApiRequest, log: Logger) => Promise<void> | void;

interface Route {
  readonly method: 'GET' | 'POST';
  /** Path segments; `:id` matches a channel id. */
  readonly pattern: readonly string[];
  readonly handler: Handler;
}

const ROUTES: readonly Route[] = [
  { method: 'GET', pattern: ['status'], handler: (t, r) => sendJson(r.res, 200, statusBody(t)) },
  { method: 'GET', pattern: ['channels'], handler: listChannels },
  { method: 'GET', pattern: ['channels', ':id'], handler: getChannel },
  { method: 'POST', pattern: ['channels', ':id', 'close'], handler: closeChannel },
  { method: 'POST', pattern: ['plugin', 'reload'], handler: reloadPlugin },
  { method: 'POST', pattern: ['drain'], handler: drain },
  { method: 'GET', pattern: ['groups'], handler: listGroups },
  { method: 'GET', pattern: ['upstreams'], handler: (t, r) => sendJson(r.res, 200, { upstreams: t.upstreams() }) },
];

/**
 * Finds the route of a request below `/api/v1/`.
 * @returns the handler, or throws.
 * @throws {AdminRequestError} 404 for an unknown path, 405 (with the allowed method) for a known path and another method.
 */
export function routeApi(method: string, segments: readonly string[]): { handler: Handler } {
  const matching = ROUTES.filter((r) => r.pattern.length === segments.length && r.pattern.every((p, i) => p === ':id' || p === segments[i]));
  if (matching.length === 0) throw new AdminRequestError('PB_ERR_ADMIN_NOT_FOUND', 404, `no admin API path /api/v1/${segments.join('/')}`);
  const route = matching.find((r) => r.method === method);
  if (route === undefined) {
    const allowed = matching.map((r) => r.method).join(', ');
    throw new AdminRequestError('PB_ERR_ADMIN_METHOD_NOT_ALLOWED', 405, `/api/v1/${segments.join('/')} takes ${allowed}, not ${method}`, { allow: allowed });
  }
  return route;
}

/** The body of `GET /api/v1/status` (also what the dashboard compares with). */
export function statusBody(t: AdminTarget): Record<string, unknown> {
  const counts = t.connections();
  const total = counts.tcp + counts.tls + counts.ws + counts.wss;
  const phase = t.phase();
  const plugin = t.plugin();
  return {
    version: t.version,
    startedAt: new Date(t.startedAtMs).toISOString(),
    uptimeSeconds: Math.max(0, (Date.now() - t.startedAtMs) / 1000),
    phase,
    ready: isReady(t),
    listeners: t.listeners(),
    connections: { total, byTransport: counts, opened: t.connectionsOpened(), closed: t.connectionsClosed(), refused: t.connectionsRefused() },
    traffic: t.traffic(),
    framesDropped: t.framesDropped(),
    plugin: plugin ?? null,
    groups: { count: t.groupCount(), deliveries: t.groupDeliveries() },
    upstreams: t.upstreams(),
  };
}

/** Ready: serving, every listener bound, and the plugin `ok`. */
export function isReady(t: AdminTarget): boolean {
  return t.phase() === 'serving' && t.listeners().length > 0 && t.plugin()?.health === 'ok';
}

/** Why the broker is not ready (empty when it is). */
export function notReadyReasons(t: AdminTarget): string[] {
  const reasons: string[] = [];
  const phase = t.phase();
  if (phase !== 'serving') reasons.push(phase);
  else if (t.listeners().length === 0) reasons.push('no listener');
  const health = t.plugin()?.health;
  if (health !== 'ok') reasons.push(`plugin ${health ?? 'not started'}`);
  return reasons;
}

const CHANNEL_QUERY = ['limit', 'cursor', 'group', 'address', 'authenticated'];

function listChannels(t: AdminTarget, r: ApiRequest): void {
  onlyParams(r.query, CHANNEL_QUERY);
  const page = parsePageQuery(r.query, parseChannelId);
  const group = r.query.get('group');
  const address = r.query.get('address');
  const authText = r.query.get('authenticated');
  if (authText !== null && authText !== 'true' && authText !== 'false') {
    throw new AdminRequestError('PB_ERR_ADMIN_BAD_REQUEST', 400, `authenticated must be true or false, got ${JSON.stringify(authText)}`);
  }
  const authenticated = authText === null ? undefined : authText === 'true';
  // A group filter walks the group's members only, not every channel.
  const source: Iterable<ChannelEntry> = group === null ? t.channelEntries() : groupChannels(t, group);
  const filtered = filter(
    source,
    (c) => (address === null || c.remoteAddress === address) && (authenticated === undefined || c.authenticated === authenticated),
  );
  const { items, nextCursor } = pageOf(
    filtered,
    (c) => c.id,
    (a, b) => a - b,
    page,
    String,
  );
  sendJson(r.res, 200, { channels: items.map((c) => t.describeChannel(c)), nextCursor });
}

function* groupChannels(t: AdminTarget, group: string): Iterable<ChannelEntry> {
  for (const id of t.groupMembers(group) ?? []) {
    const c = t.channelEntry(id);
    if (c !== undefined) yield c;
  }
}

function* filter<T>(items: Iterable<T>, keep: (item: T) => boolean): Iterable<T> {
  for (const item of items) if (keep(item)) yield item;
}

function getChannel(t: AdminTarget, r: ApiRequest): void {
  onlyParams(r.query, []);
  sendJson(r.res, 200, findChannel(t, r.segments[1]));
}

async function closeChannel(t: AdminTarget, r: ApiRequest, log: Logger): Promise<void> {
  onlyParams(r.query, []);
  onlyKeys(await readJsonObject(r.req), []);
  const channel = findChannel(t, r.segments[1]);
  t.closeChannel(channel.id);
  log.info({ remote: r.remote, channel: channel.id, peer: `${channel.peer.address}:${channel.peer.port}` }, 'admin: channel closed by operator');
  sendJson(r.res, 200, { closed: channel.id });
}

async function reloadPlugin(t: AdminTarget, r: ApiRequest, log: Logger): Promise<void> {
  onlyParams(r.query, []);
  const body = await readJsonObject(r.req);
  onlyKeys(body, ['path']);
  if (body.path !== undefined && (typeof body.path !== 'string' || body.path.length === 0)) {
    throw new AdminRequestError('PB_ERR_ADMIN_BAD_REQUEST', 400, 'path must be a non-empty string: the .wasm file to load');
  }
  const path = body.path as string | undefined;
  log.info({ remote: r.remote, path: path ?? null }, 'admin: plugin reload requested');
  let carried: string;
  try {
    carried = await t.reloadPlugin(path);
  } catch (err) {
    if (err instanceof AdminRequestError) throw err;
    // The new plugin was refused (the broker logged why); the running one keeps serving.
    const code = err instanceof BrokerError ? err.code : 'PB_ERR_PLUGIN_LOAD';
    sendJson(r.res, 422, { error: { code, message: err instanceof Error ? err.message : String(err) } });
    return;
  }
  sendJson(r.res, 200, { carried, plugin: t.plugin() ?? null });
}

async function drain(t: AdminTarget, r: ApiRequest, log: Logger): Promise<void> {
  onlyParams(r.query, []);
  const body = await readJsonObject(r.req);
  onlyKeys(body, ['graceMs']);
  const grace = body.graceMs;
  if (grace !== undefined && (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0 || grace > 3_600_000)) {
    throw new AdminRequestError('PB_ERR_ADMIN_BAD_REQUEST', 400, `graceMs must be an integer from 0 to 3600000, got ${JSON.stringify(grace)}`);
  }
  const started = t.drain(grace as number);
  log.info({ remote: r.remote, graceMs: started.graceMs, connections: started.connections }, 'admin: drain started');
  sendJson(r.res, 202, started);
}

function listGroups(t: AdminTarget, r: ApiRequest): void {
  onlyParams(r.query, ['limit', 'cursor']);
  const page = parsePageQuery(r.query, (text) => text);
  const { items, nextCursor } = pageOf(
    t.groupEntries(),
    ([name]) => name,
    (a, b) => (a < b ? -1 : a > b ? 1 : 0),
    page,
    (name) => name,
  );
  sendJson(r.res, 200, { groups: items.map(([name, members]) => ({ name, size: members.size })), nextCursor });
}

function findChannel(t: AdminTarget, idText: string): ChannelRecord {
  const id = parseChannelId(idText);
  if (id === undefined)
    throw new AdminRequestError('PB_ERR_ADMIN_BAD_REQUEST', 400, `channel id must be an integer from 1 to ${MAX_CHANNEL_ID}, got ${JSON.stringify(idText)}`);
  const entry = t.channelEntry(id);
  if (entry === undefined) throw new AdminRequestError('PB_ERR_ADMIN_NOT_FOUND', 404, `no open client channel ${id}`);
  return t.describeChannel(entry);
}

function parseChannelId(text: string): number | undefined {
  if (!/^[1-9]\d{0,9}$/.test(text)) return undefined;
  const id = Number(text);
  return id <= MAX_CHANNEL_ID ? id : undefined;
}

/** @throws {AdminRequestError} 400 naming the first query parameter not in `allowed` (typos). */
function onlyParams(query: URLSearchParams, allowed: readonly string[]): void {
  for (const key of query.keys()) {
    if (!allowed.includes(key)) {
      const hint = allowed.length === 0 ? 'this call takes none' : `known: ${allowed.join(', ')}`;
      throw new AdminRequestError('PB_ERR_ADMIN_BAD_REQUEST', 400, `unknown query parameter ${JSON.stringify(key)} (${hint})`);
    }
  }
}
