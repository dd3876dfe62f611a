/**
 * The npm package installs and works outside the repository (issue #14 item 1): `npm pack`, then
 * `npm install ./plugbroker-<v>.tgz` in an empty folder, then `npx broker --version`, `npx broker
 * init` + `npx broker build` against the installed SDKs, `npx broker serve`, and
 * `import … from 'plugbroker'`. One test does it all: the install dominates its time.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { connectClient } from '../helpers/client.js';
import { ROOT } from '../helpers/paths.js';

const run = promisify(execFile);
const TIMEOUT_MS = 8 * 60_000;

let work: string | undefined;
afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  it(
    'packs what a user needs, installs in an empty folder, and runs broker --version, init, build, serve and import',
    async () => {
      const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string; scripts: Record<string, string> };
      expect(pkg.scripts.prepack).toBe('npm run build');
      work = await mkdtemp(join(tmpdir(), 'plugbroker-pkg-'));
      // npm test has just built dist/ (what prepack would do); packing skips scripts to not build twice.
      const { stdout: packed } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, maxBuffer: 64 << 20 });
      const [info] = JSON.parse(packed) as [{ filename: string; files: { path: string }[] }];
      const paths = info.files.map((f) => f.path);
      for (const needed of [
        'dist/host/index.js',
        'dist/host/cli/main.js',
        'bin/broker.js',
        'wit/plugin.wit',
        'plugin-sdk-as/assembly/index.ts',
        'plugin-sdk-c/include/plugbroker.h',
        'plugin-sdk-rust/src/lib.rs',
        'asconfig.json',
        'dist/host/admin/dashboard/index.html',
        'dist/host/admin/dashboard/app.js',
      ]) {
        expect(paths).toContain(needed);
      }
      // No sources but the dashboard's (served as they are), no tests, benches or build outputs.
      expect(paths.filter((p) => (/^(test|bench|host|node_modules)\//.test(p) && !p.startsWith('host/admin/dashboard/')) || p.includes('/build/'))).toEqual([]);
      expect(paths).toContain('host/admin/dashboard/index.html');

      const app = join(work, 'app');
      await run('mkdir', [app]);
      await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
      await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, info.filename)], { cwd: app, maxBuffer: 64 << 20 });
      const npx = (args: string[]) => run('npx', ['--no-install', ...args], { cwd: app, maxBuffer: 64 << 20 });

      expect((await npx(['broker', '--version'])).stdout.trim()).toBe(pkg.version);
      expect((await npx(['plugbroker', '--version'])).stdout.trim()).toBe(pkg.version);
      // AssemblyScript (the SDK by package name) and C; Rust's SDK is in the file list above and
      // its build outside the repository in init-build.test.ts (each build here costs seconds).
      for (const lang of ['as', 'c']) {
        await npx(['broker', 'init', `echo-${lang}`, '--lang', lang]);
        const { stdout } = await npx(['broker', 'build', `echo-${lang}`]);
        expect(stdout).toContain(`built ${join(app, `echo-${lang}`, 'build', `echo-${lang}.wasm`)}`);
      }

      const serve = spawn(
        'npx',
        ['--no-install', 'broker', 'serve', '--plugin', 'echo-as/build/echo-as.wasm', '--port', '0', '--admin-listen', '127.0.0.1:0'],
        {
          cwd: app,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      try {
        let out = '';
        const port = await new Promise<number>((resolve, reject) => {
          serve.stdout.setEncoding('utf8').on('data', (s: string) => {
            out += s;
            const line = out.split('\n').find((l) => l.includes('"msg":"listening"'));
            if (line) resolve((JSON.parse(line) as { port: number }).port);
          });
          serve.once('exit', (code) => reject(new Error(`broker serve exited (${code}) before listening: ${out}`)));
        });
        const c = await connectClient(port);
        c.send('hello from the package');
        expect((await c.readFrame(30_000)).toString()).toBe('hello from the package');
        c.close();
        // The dashboard's files and uPlot come from the installed package (#11).
        const adminLine = out.split('\n').find((l) => l.includes('"msg":"admin listening"'))!;
        const adminPort = (JSON.parse(adminLine) as { port: number }).port;
        for (const path of ['/', '/dashboard/app.js', '/dashboard/uPlot.iife.min.js']) {
          expect((await fetch(`http://127.0.0.1:${adminPort}${path}`)).status, path).toBe(200);
        }
      } finally {
        serve.kill('SIGTERM');
        await once(serve, 'exit');
      }

      const script = [
        "import { createBroker, resolveOptions, InvalidOptionError } from 'plugbroker';",
        "const o = resolveOptions({ plugin: 'echo-as/build/echo-as.wasm', port: 0 });",
        'let code; try { createBroker({ plugin: o.plugin, port: -1 }); } catch (e) { code = e instanceof InvalidOptionError && e.code; }',
        'console.log(JSON.stringify({ port: o.port, code }));',
      ].join('\n');
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: app });
      expect(JSON.parse(stdout)).toEqual({ port: 0, code: 'PB_ERR_INVALID_OPTION' });
    },
    TIMEOUT_MS,
  );
});
