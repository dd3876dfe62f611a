/**
 * Small HTTP helpers of the admin listener: JSON answers, error answers with a stable code, and
 * a bounded request-body reader.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AdminRequestError, BrokerError } from '../errors.js';
import { ADMIN_MAX_BODY_BYTES } from '../limits.js';

/** Headers every admin answer carries. */
const COMMON_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } as const;

/** Answers `body` as JSON. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...COMMON_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Answers `{ error: { code, message } }` with the error's status (500 for anything but `AdminRequestError`). */
export function sendError(res: ServerResponse, err: unknown, headers: Record<string, string> = {}): void {
  const status = err instanceof AdminRequestError ? err.status : 500;
  const code = err instanceof BrokerError ? err.code : 'PB_ERR_ADMIN_INTERNAL';
  if (err instanceof AdminRequestError) headers = { ...err.headers, ...headers };
  const message = err instanceof Error ? err.message : String(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, { error: { code, message } }, headers);
}

/** Answers raw bytes (dashboard assets, metrics text). */
export function sendBody(res: ServerResponse, status: number, contentType: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...COMMON_HEADERS, 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/**
 * Reads a request body of at most `maxBytes` and parses it as a JSON object; an empty body is `{}`.
 * @throws {AdminRequestError} 413 above the limit (the rest is not read), 400 when it is not a JSON object.
 */
export async function readJsonObject(req: IncomingMessage, maxBytes = ADMIN_MAX_BODY_BYTES): Promise<Record<string, unknown>> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new AdminRequestError('PB_ERR_ADMIN_BAD_REQUEST', 400, `body is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AdminRequestError('PB_ERR_ADMIN_BAD_REQUEST', 400, 'body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/**
 * Checks that `body` has only keys from `allowed`.
 * @throws {AdminRequestError} 400 naming the first unknown key.
 */
export function onlyKeys(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) {
      const hint = allowed.length === 0 ? 'this call takes no body fields' : `known: ${allowed.join(', ')}`;
      throw new AdminRequestError('PB_ERR_ADMIN_BAD_REQUEST', 400, `unknown body field ${JSON.stringify(key)} (${hint})`);
    }
  }
}

function tooLarge(maxBytes: number): AdminRequestError {
  return new AdminRequestError('PB_ERR_ADMIN_BODY_TOO_LARGE', 413, `request body larger than ${maxBytes} bytes`);
}
