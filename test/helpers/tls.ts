/**
 * A self-signed certificate for 127.0.0.1 and localhost, made once per test file with openssl
 * (Debian's `openssl`, installed by .ci/run) in a temporary folder removed afterwards.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCert {
  dir: string;
  certPath: string;
  keyPath: string;
  /** The certificate's PEM, for clients that trust it (`ca`). */
  cert: Buffer;
  /** Removes the folder. */
  remove(): void;
}

/** Makes a fresh RSA-2048 certificate valid for a day. */
export function makeTestCert(): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'plugbroker-tls-'));
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { dir, certPath, keyPath, cert: readFileSync(certPath), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes `text` to a file in `cert.dir` and returns its path (for broken certificates and keys). */
export function writeTestFile(cert: TestCert, name: string, text: string | Buffer): string {
  const path = join(cert.dir, name);
  writeFileSync(path, text);
  return path;
}
