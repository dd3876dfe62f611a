/**
 * Builds the test fixtures once per run: every `test/fixtures/plugins/*.wat` becomes a component in
 * `test/fixtures/plugins/build/<name>.wasm`, through the same componentize step as `broker build`.
 * The `.wat` files in `wit-0.1.0/` are built against the WIT of package version 0.1.0 kept beside
 * them (components of an older contract, which the broker must refuse).
 * The AssemblyScript echo plugin is built by `npm test` (`npm run build`) beforehand; its absence
 * is an error here rather than a skipped test.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { componentize } from '../host/toolchain/componentize.js';
import { ECHO_WASM, FIXTURE_BUILD_DIR, FIXTURE_SRC_DIR } from './helpers/paths.js';

export default async function setup(): Promise<void> {
  if (!existsSync(ECHO_WASM)) throw new Error(`${ECHO_WASM} is missing: run \`npm run build\` first (npm test does)`);
  const { parse } = await import('@bytecodealliance/jco');
  await mkdir(FIXTURE_BUILD_DIR, { recursive: true });
  for (const file of await readdir(FIXTURE_SRC_DIR)) {
    if (!file.endsWith('.wat')) continue;
    const core = await parse(await readFile(join(FIXTURE_SRC_DIR, file), 'utf8'));
    await writeFile(join(FIXTURE_BUILD_DIR, file.replace(/\.wat$/, '.wasm')), await componentize(core, 'utf8'));
  }
  const { componentEmbed, componentNew } = await import('@bytecodealliance/jco');
  const legacyDir = join(FIXTURE_SRC_DIR, 'wit-0.1.0');
  const legacyWit = await readFile(join(legacyDir, 'plugin.wit'), 'utf8');
  for (const file of await readdir(legacyDir)) {
    if (!file.endsWith('.wat')) continue;
    const core = await parse(await readFile(join(legacyDir, file), 'utf8'));
    const embedded = await componentEmbed({ binary: core, witSource: legacyWit, world: 'plugin', stringEncoding: 'utf8' });
    await writeFile(join(FIXTURE_BUILD_DIR, file.replace(/\.wat$/, '.wasm')), await componentNew(embedded, undefined));
  }
}
