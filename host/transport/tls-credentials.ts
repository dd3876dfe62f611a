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

function readPem(option: 'tlsCert' | 'tlsKey', path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new InvalidOptionError(option, path, `a readable ${what} file (${reason(err)})`);
  }
}

/**
 * Reads and checks a certificate and its key.
 * @throws {InvalidOptionError} naming `tlsCert` or `tlsKey`: unreadable, not PEM, or a key that
 *   does not match the certificate.
 */
export function loadTlsCredentials(certPath: string, keyPath: string): TlsCredentials {
  const cert = readPem('tlsCert', certPath, 'PEM certificate');
  const key = readPem('tlsKey', keyPath, 'PEM private key');
  try {
    new X509Certificate(cert);
  } catch (err) {
    throw new InvalidOptionError('tlsCert', certPath, `a PEM certificate that loads (${reason(err)})`);
  }
  try {
    createPrivateKey(key);
  } catch (err) {
    throw new InvalidOptionError('tlsKey', keyPath, `an unencrypted PEM private key that loads (${reason(err)})`);
  }
  try {
    tls.createSecureContext({ cert, key });
  } catch (err) {
    throw new InvalidOptionError('tlsKey', keyPath, `the private key of the certificate in '${certPath}' (${reason(err)})`);
  }
  return Object.freeze({ cert, key });
}
