// The `router` test plugin (test/fixtures/plugins/router.wat: group join/leave/send/size by binary
// command) as a component, built with the broker's own componentize step when missing. The cluster
// benches use it; it needs `npm run build` (dist/) first.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Path of router.wasm under `repoRoot`, built if missing. */
export async function routerPlugin(repoRoot) {
  const out = path.join(repoRoot, 'test/fixtures/plugins/build/router.wasm');
  if (existsSync(out)) return out;
  const { parse } = await import('@bytecodealliance/jco');
  const { componentize } = await import(path.join(repoRoot, 'dist/host/toolchain/componentize.js'));
  const core = await parse(readFileSync(path.join(repoRoot, 'test/fixtures/plugins/router.wat'), 'utf8'));
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, await componentize(core, 'utf8'));
  return out;
}
