/**
 * AssemblyScript → core wasm module, through the `asc` JS API (no child process).
 *
 * The SDK is importable by package name wherever the plugin folder lives:
 * `import { Plugin, register } from "plugbroker"` and `export * from "plugbroker/abi/exports"`.
 * asc resolves a package import in every `node_modules` above the folder and then in each
 * `--path` directory; the build adds one virtual directory whose `plugbroker/` package is the SDK
 * shipped with this broker (`plugin-sdk-as/assembly`), served through asc's `readFile` hook. So no
 * `../../../plugin-sdk-as` import and no install step are needed, and the SDK always matches the
 * broker that builds and serves the plugin.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { BuildError } from '../errors.js';
import { asSdkDir } from './sdk-paths.js';

/** The package name a plugin imports the SDK by. */
export const AS_SDK_PACKAGE = 'plugbroker';

/** The virtual `--path` directory: `<it>/plugbroker/x.ts` is `plugin-sdk-as/assembly/x.ts`. */
const VIRTUAL_PACKAGES = resolve(sep, '__plugbroker_as_packages__');

/** What asc is asked for → the file on disk (SDK files under the virtual directory). */
export function mapSdkPath(file: string): string {
  const prefix = join(VIRTUAL_PACKAGES, AS_SDK_PACKAGE) + sep;
  return file.startsWith(prefix) ? join(asSdkDir(), file.slice(prefix.length)) : file;
}

/**
 * Compiles the plugin in `dir` (its `asconfig.json`, target `release`) to a core module.
 * The plugin's asconfig must leave no `env.*` import (`"use": ["abort="]`, see the SDK README).
 * @throws {BuildError} step `asconfig` for an asconfig.json that cannot be read or extends a
 * missing file; step `asc` with asc's diagnostics when compilation fails.
 */
export async function compileAssemblyScript(dir: string): Promise<Uint8Array> {
  await checkAsconfigChain(dir);
  const { default: asc } = await import('assemblyscript/asc');
  let binary: Uint8Array | undefined;
  let diagnostics = '';
  const args = ['--config', join(dir, 'asconfig.json'), '--target', 'release', '--outFile', 'plugin.core.wasm', '--path', VIRTUAL_PACKAGES];
  const result = await asc.main(args, {
    async readFile(name: string, baseDir: string) {
      try {
        return await readFile(mapSdkPath(resolve(baseDir, name)), 'utf8');
      } catch {
        return null;
      }
    },
    writeFile(name: string, contents: Uint8Array | string) {
      if (name.endsWith('.wasm') && typeof contents !== 'string') binary = contents;
    },
    stdout: { write: (s: string) => ((diagnostics += s), true) } as never,
    stderr: { write: (s: string) => ((diagnostics += s), true) } as never,
  });
  if (result.error !== null || binary === undefined) {
    throw new BuildError('asc', `${result.error?.message ?? 'no output'}\n${diagnostics}`.trim(), { cause: result.error });
  }
  return binary;
}

/**
 * asc silently ignores an `extends` it cannot find, and the build then fails much later with
 * `failed to resolve import env::abort` (issue #14): check the chain first.
 * @throws {BuildError} step `asconfig`.
 */
async function checkAsconfigChain(dir: string): Promise<void> {
  let file = resolve(dir, 'asconfig.json');
  const seen = new Set<string>();
  for (;;) {
    let config: { extends?: unknown };
    try {
      config = JSON.parse(await readFile(file, 'utf8')) as { extends?: unknown };
    } catch (cause) {
      throw new BuildError('asconfig', `${file}: ${(cause as Error).message}`, { cause });
    }
    if (config.extends === undefined) return;
    if (typeof config.extends !== 'string') throw new BuildError('asconfig', `${file}: "extends" must be a path to another asconfig.json`);
    const target = resolveExtends(config.extends, dirname(file));
    if (target === undefined || !existsSync(target)) {
      throw new BuildError(
        'asconfig',
        `${file} extends "${config.extends}", which does not exist${target === undefined ? '' : ` (${target})`}: fix the path, or remove "extends" ` +
          'and set "options": { "runtime": "incremental", "use": ["abort="] } in the file itself (what `broker init` writes)',
      );
    }
    if (seen.has(target)) return;
    seen.add(target);
    file = target;
  }
}

/** asc's own rule: a relative or absolute path is a file, anything else a package to resolve. */
function resolveExtends(spec: string, from: string): string | undefined {
  if (spec.startsWith('.') || isAbsolute(spec)) return resolve(from, spec);
  try {
    return createRequire(join(from, 'asconfig.json')).resolve(spec);
  } catch {
    return undefined;
  }
}
