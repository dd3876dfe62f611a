/**
 * Where a plugin worker's entry module is. From dist/ it is plain JS beside this file. From the
 * TypeScript sources (tests) the modules the worker thread imports are transpiled first: Node 20
 * cannot load .ts in a worker, and a loader hook per worker costs seconds.
 *
 * The transpiled copy goes into `node_modules/.cache/plugbroker-worker/<hash of the sources>/`, a
 * cache shared by every test process (not a temporary folder per process: test runners kill their
 * workers, so an exit hook would not run and each run would leave a folder behind). A copy is built
 * in a sibling folder and renamed into place, so concurrent processes never load a half-written
 * one; copies of older sources are removed after an hour.
 */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const ENTRY = 'plugin/worker/worker-thread';
/** Copies of other source versions older than this are removed when a new copy is built. */
const STALE_COPY_MS = 60 * 60 * 1000;
let workerUrl: Promise<URL> | undefined;

/** URL of worker-thread.js (transpiled once per source version when running from sources). */
export function workerEntry(): Promise<URL> {
  workerUrl ??= FROM_SOURCE ? transpiledEntry() : Promise.resolve(new URL('./worker-thread.js', import.meta.url));
  return workerUrl;
}

/** Relative module specifiers (`'./x.js'`, `'../y.js'`): static imports, re-exports and `import()`. */
const RELATIVE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)\.js['"]/g;

async function transpiledEntry(): Promise<URL> {
  const { createHash } = await import('node:crypto');
  const { mkdir, readFile, readdir, rename, rm, stat, writeFile } = await import('node:fs/promises');
  const { dirname, join, normalize } = await import('node:path');
  const { fileURLToPath, pathToFileURL } = await import('node:url');
  const hostDir = fileURLToPath(new URL('../..', import.meta.url));
  const cacheDir = join(hostDir, '..', 'node_modules', '.cache', 'plugbroker-worker');

  // The worker's import closure, from its entry (type-only imports included: a superset is harmless).
  const sources = new Map<string, string>();
  const pending = [ENTRY];
  while (pending.length > 0) {
    const mod = pending.pop()!;
    if (sources.has(mod)) continue;
    const source = await readFile(join(hostDir, `${mod}.ts`), 'utf8');
    sources.set(mod, source);
    for (const m of source.matchAll(RELATIVE_IMPORT)) pending.push(normalize(join(dirname(mod), m[1])).replaceAll('\\', '/'));
  }
  const hash = createHash('sha256');
  for (const mod of [...sources.keys()].sort()) hash.update(mod).update('\0').update(sources.get(mod)!).update('\0');
  const version = hash.digest('hex').slice(0, 16);
  const target = join(cacheDir, version);
  const entryUrl = pathToFileURL(join(target, `${ENTRY}.js`));
  if (await exists(join(target, 'package.json'))) return entryUrl;

  const { default: ts } = await import('typescript');
  const building = `${target}.${process.pid}.tmp`;
  for (const [mod, source] of sources) {
    const js = ts.transpileModule(source, {
      fileName: `${mod}.ts`,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    await mkdir(join(building, dirname(mod)), { recursive: true });
    await writeFile(join(building, `${mod}.js`), js);
  }
  // Written last: its presence marks a complete copy.
  await writeFile(join(building, 'package.json'), '{"type":"module"}');
  try {
    await rename(building, target);
  } catch {
    await rm(building, { recursive: true, force: true }); // another process got there first
  }
  const now = Date.now();
  for (const name of await readdir(cacheDir)) {
    if (name === version) continue;
    const path = join(cacheDir, name);
    const info = await stat(path).catch(() => null);
    if (info !== null && now - info.mtimeMs > STALE_COPY_MS) await rm(path, { recursive: true, force: true });
  }
  return entryUrl;

  async function exists(path: string): Promise<boolean> {
    return stat(path).then(
      () => true,
      () => false,
    );
  }
}
