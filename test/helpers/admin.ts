/**
 * Admin listener helpers for tests: requests with or without a token, answers parsed, and a
 * Prometheus sample reader.
 */
import type { Broker } from '../../host/broker.js';

export interface AdminAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body when it is JSON. */
  json: Record<string, unknown> & { error?: { code: string; message: string } };
}

/** `method path` on the broker's admin listener. `body`: an object (sent as JSON) or raw text. */
export async function admin(
  broker: Broker,
  path: string,
  opts: { method?: string; body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<AdminAnswer> {
  const addr = broker.adminAddress;
  if (addr === undefined) throw new Error('the broker has no admin listener');
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`http://127.0.0.1:${addr.port}${path}`, { method: opts.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await res.text();
  let json = {};
  if ((res.headers.get('content-type') ?? '').startsWith('application/json')) json = JSON.parse(text);
  return { status: res.status, headers: res.headers, text, json };
}

/** The value of one Prometheus sample (`name` or `name{label="v",…}` exactly as printed), or undefined. */
export function metricSample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
