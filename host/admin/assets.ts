/**
 * The dashboard's files: `host/admin/dashboard/` (plain HTML, CSS and an ES module: no build step,
 * shipped as they are in the package) and uPlot's browser build, read from the installed `uplot`
 * package (a dependency) wherever npm put it. Everything is read once, when the admin listener
 * starts, and served from memory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One file as served. */
export interface Asset {
  readonly contentType: string;
  readonly body: Buffer;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** URL path → file name in the dashboard folder. */
const DASHBOARD_FILES: Record<string, string> = {
  '/': 'index.html',
  '/dashboard/app.js': 'app.js',
  '/dashboard/app.css': 'app.css',
};

/** URL path → file of the uplot package. */
const UPLOT_FILES: Record<string, string> = {
  '/dashboard/uPlot.iife.min.js': 'uplot/dist/uPlot.iife.min.js',
  '/dashboard/uPlot.min.css': 'uplot/dist/uPlot.min.css',
};

/**
 * The folder of the dashboard's own files: beside this module, in the sources (host/admin/) and in
 * the build (the build copies them to dist/host/admin/dashboard/, which the package ships).
 */
export function dashboardDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const dir of [join(here, 'dashboard')]) {
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  throw new Error(`dashboard files not found beside ${here}`);
}

/** Reads every dashboard asset. @throws when a file is missing (a broken install). */
export function loadDashboardAssets(): ReadonlyMap<string, Asset> {
  const dir = dashboardDir();
  const require = createRequire(import.meta.url);
  const out = new Map<string, Asset>();
  for (const [url, file] of Object.entries(DASHBOARD_FILES)) out.set(url, asset(join(dir, file)));
  for (const [url, spec] of Object.entries(UPLOT_FILES)) out.set(url, asset(require.resolve(spec)));
  return out;
}

function asset(path: string): Asset {
  const ext = path.slice(path.lastIndexOf('.'));
  return { contentType: TYPES[ext] ?? 'application/octet-stream', body: readFileSync(path) };
}

let version: string | undefined;

/** plugbroker's version, from its package.json. */
export function packageVersion(): string {
  if (version !== undefined) return version;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'plugbroker' && typeof pkg.version === 'string') return (version = pkg.version);
    }
    const parent = dirname(dir);
    if (parent === dir) return (version = '0.0.0');
    dir = parent;
  }
}
