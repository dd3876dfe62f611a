import { fileURLToPath } from 'node:url';

/** Repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The AssemblyScript echo plugin, built by `npm run build`. */
export const ECHO_WASM = fileURLToPath(new URL('../../plugins/echo-wasm/build/echo.wasm', import.meta.url));
/** Sources of the hostile and probe fixtures. */
export const FIXTURE_SRC_DIR = fileURLToPath(new URL('../fixtures/plugins', import.meta.url));
/** Where global-setup writes the fixture components. */
export const FIXTURE_BUILD_DIR = fileURLToPath(new URL('../fixtures/plugins/build', import.meta.url));
/** The CLI entry. */
export const BROKER_BIN = fileURLToPath(new URL('../../bin/broker.js', import.meta.url));

/** Path of a fixture component built from `test/fixtures/plugins/<name>.wat`. */
export function fixture(name: string): string {
  return `${FIXTURE_BUILD_DIR}/${name}.wasm`;
}
