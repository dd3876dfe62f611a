#!/usr/bin/env node
// `npm start`'s build step: builds only what is missing or older than its sources — the host
// (dist/, tsc) and the echo plugin it serves — instead of everything every time (issue #14).
// `npm run build` still builds everything from a clean dist/.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Newest modification time of the files under `paths` (0 when none exist). */
function newest(...paths) {
  let t = 0;
  for (const p of paths) {
    const abs = join(root, p);
    if (!existsSync(abs)) continue;
    const st = statSync(abs);
    if (st.isDirectory()) {
      for (const entry of readdirSync(abs)) if (entry !== 'build' && entry !== 'node_modules') t = Math.max(t, newest(join(p, entry)));
    } else {
      t = Math.max(t, st.mtimeMs);
    }
  }
  return t;
}

/** Modification time of `file`, 0 when missing. */
function built(file) {
  const abs = join(root, file);
  return existsSync(abs) ? statSync(abs).mtimeMs : 0;
}

function run(what, args) {
  process.stderr.write(`npm start: building ${what}\n`);
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
// tsc rewrites its build info on every build that changed something: it dates the last host build.
const hostBuilt = built('dist/host/cli/main.js') === 0 ? 0 : built('dist/.tsbuildinfo.build');
if (hostBuilt < newest('host', 'tsconfig.json', 'tsconfig.build.json', 'package.json')) {
  run('the host (dist/)', [tsc, '-p', 'tsconfig.build.json']);
}
const echo = 'plugins/echo-wasm/build/echo.wasm';
if (built(echo) < newest('plugins/echo-wasm', 'plugin-sdk-as', 'asconfig.json', 'wit', 'host/toolchain')) {
  run(echo, ['bin/broker.js', 'build', 'plugins/echo-wasm', '-o', echo]);
}
