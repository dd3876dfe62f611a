/**
 * Where a plugin worker's entry module is. From dist/ it is plain JS beside this file; from the
 * TypeScript sources (tests) the worker's modules are transpiled first (see below).
 */
// From dist/ the worker is plain JS. Running from the TypeScript sources (tests), the worker's
// modules are transpiled once per process into a temporary folder with the TypeScript compiler (a
// dev dependency): Node 20 cannot load .ts in a worker, and a loader hook per worker costs seconds.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
let workerUrl: Promise<URL> | undefined;

/** URL of worker.js (transpiled once per process when running from sources). */
export function workerEntry(): Promise<URL> {
  workerUrl ??= FROM_SOURCE ? transpileWorkerSources() : Promise.resolve(new URL('./worker.js', import.meta.url));
  return workerUrl;
}

async function transpileWorkerSources(): Promise<URL> {
  const { mkdtemp, mkdir, readdir, readFile, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { fileURLToPath, pathToFileURL } = await import('node:url');
  const { default: ts } = await import('typescript');
  const hostDir = fileURLToPath(new URL('..', import.meta.url));
  const out = await mkdtemp(join(tmpdir(), 'plugbroker-worker-'));
  await writeFile(join(out, 'package.json'), '{"type":"module"}');
  for (const sub of ['', 'plugin', 'host-api', 'routing']) {
    await mkdir(join(out, sub), { recursive: true });
    for (const file of await readdir(join(hostDir, sub))) {
      if (!file.endsWith('.ts')) continue;
      const source = await readFile(join(hostDir, sub, file), 'utf8');
      const js = ts.transpileModule(source, { fileName: file, compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
      await writeFile(join(out, sub, file.replace(/\.ts$/, '.js')), js.outputText);
    }
  }
  return pathToFileURL(join(out, 'plugin', 'worker.js'));
}
