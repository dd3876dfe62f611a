/**
 * The admin listener (`--admin-listen`, issue #11): its own HTTP server on its own port, serving
 * `/healthz`, `/readyz`, `/metrics`, the admin API (`/api/v1/…`, api.ts), the dashboard's event
 * stream (feed.ts) and the dashboard page (`/`).
 *
 * It shares the I/O thread with the client listeners, so everything it does is bounded in size
 * and time (limits.ts, ADMIN_*): connections capped, header and request timeouts, header and body
 * size, pipelined requests per connection, and a request rate (throttle.ts) beyond which requests
 * wait their turn; every answer is computed in one pass over the broker's state (a page, a
 * scrape), never more. A failing handler answers 500 and is logged; nothing here can throw into the
 * broker. With a token set, everything but `/healthz`, `/readyz` and the page's static files
 * needs `Authorization: Bearer <token>` (401 otherwise).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { AdminRequestError, ListenError } from '../errors.js';
import {
  ADMIN_HEADERS_TIMEOUT_MS,
  ADMIN_KEEP_ALIVE_TIMEOUT_MS,
  ADMIN_MAX_CONNECTIONS,
  ADMIN_MAX_HEADER_BYTES,
  ADMIN_MAX_QUEUE_WAIT_MS,
  ADMIN_MAX_REQUESTS_PER_CONNECTION,
  ADMIN_MAX_REQUESTS_PER_S,
  ADMIN_REQUEST_BURST,
  ADMIN_REQUEST_TIMEOUT_MS,
} from '../limits.js';
import { METRICS_CONTENT_TYPE, type BrokerMetrics } from '../metrics/metrics.js';
import type { AdminTarget } from './admin-target.js';
import { isReady, notReadyReasons, routeApi } from './api.js';
import { loadDashboardAssets, type Asset } from './assets.js';
import { AdminToken } from './auth.js';
import { DashboardFeed } from './feed.js';
import { sendBody, sendError, sendJson } from './http.js';
import { RequestThrottle, type ThrottlePolicy } from './throttle.js';

/** Options of `startAdminServer`. */
export interface AdminServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Bearer token; undefined: none required (loopback only, checked by resolveOptions). */
  readonly token: string | undefined;
  readonly target: AdminTarget;
  readonly metrics: BrokerMetrics;
  readonly log: Logger;
  /** Request rate policy (tests lower it). Default ADMIN_MAX_REQUESTS_PER_S / ADMIN_REQUEST_BURST / ADMIN_MAX_QUEUE_WAIT_MS. */
  readonly throttle?: ThrottlePolicy;
  /** Interval of the dashboard's event stream, ms. Default ADMIN_EVENTS_INTERVAL_MS. */
  readonly eventsIntervalMs?: number;
}

/** A bound admin listener. */
export interface AdminServer {
  readonly address: { host: string; port: number };
  /** Stops listening and ends every admin connection (event streams included). */
  close(): Promise<void>;
}

const kInFlight = Symbol('plugbroker.adminInFlight');
type CountedSocket = Socket & { [kInFlight]?: number };

/** Paths served without a token: probes, and the page's static files (which hold no data). */
const OPEN_PATHS = new Set(['/healthz', '/readyz']);

/**
 * Binds the admin listener.
 * @throws {ListenError} when the address cannot be bound.
 */
export async function startAdminServer(opts: AdminServerOptions): Promise<AdminServer> {
  const { target, metrics, log } = opts;
  const assets = loadDashboardAssets();
  const token = opts.token === undefined ? undefined : new AdminToken(opts.token);
  const throttle = new RequestThrottle(
    opts.throttle ?? { ratePerS: ADMIN_MAX_REQUESTS_PER_S, burst: ADMIN_REQUEST_BURST, maxWaitMs: ADMIN_MAX_QUEUE_WAIT_MS },
    Date.now(),
  );
  const feed = new DashboardFeed(target, opts.eventsIntervalMs);
  const waiting = new Set<NodeJS.Timeout>();
  let closed = false;

  const server = http.createServer(
    {
      maxHeaderSize: ADMIN_MAX_HEADER_BYTES,
      headersTimeout: ADMIN_HEADERS_TIMEOUT_MS,
      requestTimeout: ADMIN_REQUEST_TIMEOUT_MS,
      keepAliveTimeout: ADMIN_KEEP_ALIVE_TIMEOUT_MS,
      // Node checks the two timeouts above only this often (default 30 s).
      connectionsCheckingInterval: 1000,
    },
    (req, res) => {
      try {
        admit(req, res);
      } catch (err) {
        fail(res, err);
      }
    },
  );
  server.maxConnections = ADMIN_MAX_CONNECTIONS;

  function admit(req: IncomingMessage, res: ServerResponse): void {
    // Pipelining is not a way around the rate: a connection with too many requests open is closed.
    const socket = req.socket as CountedSocket;
    const inFlight = (socket[kInFlight] ?? 0) + 1;
    socket[kInFlight] = inFlight;
    res.once('close', () => void (socket[kInFlight] = (socket[kInFlight] ?? 1) - 1));
    if (inFlight > ADMIN_MAX_REQUESTS_PER_CONNECTION) {
      socket.destroy();
      return;
    }
    const delayMs = throttle.acquire(Date.now());
    if (delayMs < 0) {
      const retryS = String(Math.ceil(ADMIN_MAX_QUEUE_WAIT_MS / 1000));
      throw new AdminRequestError('PB_ERR_ADMIN_BUSY', 429, 'too many admin requests; retry later', { 'retry-after': retryS });
    }
    if (delayMs === 0) {
      void serve(req, res);
      return;
    }
    const timer = setTimeout(() => {
      waiting.delete(timer);
      if (!closed && !res.destroyed) void serve(req, res);
    }, delayMs);
    waiting.add(timer);
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await route(req, res);
    } catch (err) {
      fail(res, err);
    }
  }

  function fail(res: ServerResponse, err: unknown): void {
    if (!(err instanceof AdminRequestError)) log.error({ err, code: 'PB_ERR_ADMIN_INTERNAL' }, 'admin request failed');
    // An unread body (413) must not be read on: close the connection after the answer.
    const extra: Record<string, string> = err instanceof AdminRequestError && err.status === 413 ? { connection: 'close' } : {};
    try {
      sendError(res, err, extra);
    } catch {
      res.destroy();
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://admin.invalid');
    } catch {
      throw new AdminRequestError('PB_ERR_ADMIN_BAD_REQUEST', 400, 'malformed request target');
    }
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const remote = `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? 0}`;

    const asset = assets.get(path);
    if (OPEN_PATHS.has(path) || asset !== undefined) {
      if (method !== 'GET' && method !== 'HEAD')
        throw new AdminRequestError('PB_ERR_ADMIN_METHOD_NOT_ALLOWED', 405, `${path} takes GET, not ${method}`, { allow: 'GET' });
      if (asset !== undefined) return sendAsset(res, asset);
      if (path === '/healthz') return sendJson(res, 200, { status: 'alive' });
      const ready = isReady(target);
      return sendJson(res, ready ? 200 : 503, ready ? { ready } : { ready, reasons: notReadyReasons(target) });
    }
    if (token !== undefined && !token.accepts(req.headers.authorization)) {
      log.debug({ remote, path }, 'admin: request without a valid token');
      throw new AdminRequestError('PB_ERR_ADMIN_UNAUTHORIZED', 401, 'missing or wrong admin token (Authorization: Bearer <token>)', {
        'www-authenticate': 'Bearer realm="plugbroker"',
      });
    }
    if (path === '/metrics') {
      if (method !== 'GET') throw new AdminRequestError('PB_ERR_ADMIN_METHOD_NOT_ALLOWED', 405, `/metrics takes GET, not ${method}`, { allow: 'GET' });
      return sendBody(res, 200, METRICS_CONTENT_TYPE, await metrics.scrape());
    }
    if (path === '/api/v1/events') {
      if (method !== 'GET') throw new AdminRequestError('PB_ERR_ADMIN_METHOD_NOT_ALLOWED', 405, `/api/v1/events takes GET, not ${method}`, { allow: 'GET' });
      return feed.subscribe(res);
    }
    if (path.startsWith('/api/v1/')) {
      const segments = path.slice('/api/v1/'.length).split('/').map(decodeSegment);
      const { handler } = routeApi(method, segments);
      return handler(target, { req, res, segments, query: url.searchParams, remote }, log);
    }
    throw new AdminRequestError('PB_ERR_ADMIN_NOT_FOUND', 404, `nothing at ${path} (try /metrics, /healthz, /readyz, /api/v1/status or /)`);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) => reject(new ListenError(opts.host, opts.port, { cause, listener: 'admin listener, --admin-listen' })));
    server.listen({ host: opts.host, port: opts.port }, () => resolve());
  });
  server.on('error', (err) => log.error({ err }, 'admin listener error'));
  const addr = server.address() as { address: string; port: number };
  return {
    address: { host: addr.address, port: addr.port },
    close: async () => {
      closed = true;
      for (const t of waiting) clearTimeout(t);
      waiting.clear();
      feed.close();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
    },
  };
}

function sendAsset(res: ServerResponse, asset: Asset): void {
  sendBody(res, 200, asset.contentType, asset.body, {
    // The page loads only its own files and talks only to this listener.
    'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  });
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new AdminRequestError('PB_ERR_ADMIN_BAD_REQUEST', 400, `malformed path segment ${JSON.stringify(segment)}`);
  }
}
