/**
 * Loads `--tls-cert` and `--tls-key` once, at option validation (before anything listens), so that
 * a file that is missing, is not PEM, or holds a key that does not belong to the certificate is one
 * clear error naming the flag, not a failure at the first handshake.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { InvalidOptionError } from '../errors.js';

/** PEM contents of a certificate (chain) and its private key. */
export interface TlsCredentials {
  readonly cert: Buffer;
  readonly key: Buffer;
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What is wrong with a certificate and key, by the option to blame; `problem` completes "must be …". */
export interface TlsCredentialsProblem {
  readonly option: 'tlsCert' | 'tlsKey';
  readonly path: string;
  readonly problem: string;
}

/** Reads and checks a certificate and its key; the credentials, or the first problem. */
export function tryLoadTlsCredentials(certPath: string, keyPath: string): TlsCredentials | TlsCredentialsProblem {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = readFileSync(certPath);
  } catch (err) {
    return { option: 'tlsCert', path: certPath, problem: `a readable PEM certificate file (${reason(err)})` };
  }
  try {
    key = readFileSync(keyPath);
  } catch (err) {
    return { option: 'tlsKey', path: keyPath, problem: `a readable PEM private key file (${reason(err)})` };
  }
  try {
    new X509Certificate(cert);
  } catch (err) {
    return { option: 'tlsCert', path: certPath, problem: `a PEM certificate that loads (${reason(err)})` };
  }
  try {
    createPrivateKey(key);
  } catch (err) {
    return { option: 'tlsKey', path: keyPath, problem: `an unencrypted PEM private key that loads (${reason(err)})` };
  }
  try {
    tls.createSecureContext({ cert, key });
  } catch (err) {
    return { option: 'tlsKey', path: keyPath, problem: `the private key of the certificate in '${certPath}' (${reason(err)})` };
  }
  return Object.freeze({ cert, key });
}

/**
 * Reads and checks a certificate and its key.
 * @throws {InvalidOptionError} naming `tlsCert` or `tlsKey`: unreadable, not PEM, or a key that
 *   does not match the certificate.
 */
export function loadTlsCredentials(certPath: string, keyPath: string): TlsCredentials {
  const r = tryLoadTlsCredentials(certPath, keyPath);
  if ('problem' in r) throw new InvalidOptionError(r.option, r.path, r.problem);
  return r;
}
