#!/usr/bin/env node
// Entry point of the `broker` command: runs the compiled CLI from dist/ (built by `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/host/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('broker: dist/ is missing: run `npm run build` in the plugbroker folder first [PB_ERR_NOT_BUILT]\n');
  process.exit(1);
}
await import(main.href);
