/**
 * The admin token: `Authorization: Bearer <token>`, compared in constant time. Both sides are
 * hashed first (SHA-256), so the comparison takes the same time whatever the length of what the
 * caller sent, and `timingSafeEqual` compares the two digests without an early exit.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InvalidOptionError } from '../errors.js';

export class AdminToken {
  readonly #digest: Buffer;

  /** @param token the secret; callers validate it (non-empty) before. */
  constructor(token: string) {
    this.#digest = sha256(token);
  }

  /** Whether an `Authorization` header value carries the token (`Bearer <token>`, scheme case-insensitive). */
  accepts(authorization: string | undefined): boolean {
    const m = authorization === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    // A missing or malformed header is still compared, so that its answer takes as long as a wrong token's.
    const given = sha256(m === null ? '' : m[1]);
    return timingSafeEqual(given, this.#digest) && m !== null;
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Whether `host` is a loopback address or name (127.0.0.0/8, ::1, localhost): no token needed there. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '[::1]' || h === '0:0:0:0:0:0:0:1') return true;
  if (/^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** What an admin token must look like: printable ASCII without spaces, as it is typed in a header. */
const TOKEN_PATTERN = /^[\x21-\x7e]+$/;

/**
 * The admin token: `adminToken`, or the content of `adminTokenFile` (one trailing newline
 * dropped), or undefined when neither is set.
 * @throws {InvalidOptionError} when the file cannot be read or does not hold a valid token.
 */
export async function readAdminToken(opts: { readonly adminToken?: string; readonly adminTokenFile?: string }): Promise<string | undefined> {
  if (opts.adminTokenFile === undefined) return opts.adminToken;
  const subject = "'adminTokenFile' (--admin-token-file)";
  let text: string;
  try {
    text = await readFile(opts.adminTokenFile, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new InvalidOptionError('adminTokenFile', opts.adminTokenFile, `a readable file (${why})`, { subject });
  }
  const token = text.replace(/\r?\n$/, '');
  if (!TOKEN_PATTERN.test(token)) {
    throw new InvalidOptionError('adminTokenFile', opts.adminTokenFile, 'a file holding one token of printable ASCII characters without spaces', { subject });
  }
  return token;
}
