/**
 * The package's version, read from its package.json (the one `broker --version` and the status
 * API report), so that it can never disagree with what npm installed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../toolchain/sdk-paths.js';

let version: string | undefined;

/** `version` of plugbroker's package.json. */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}
