/**
 * C → core wasm module with Debian's clang 14 + lld: every `*.c` file of the plugin folder is
 * compiled and linked together with the C SDK (`plugin-sdk-c/src/*.c`, header in
 * `plugin-sdk-c/include`). There is no libc: `-nostdlib -ffreestanding`, and `-mbulk-memory` so that
 * memcpy/memset become `memory.copy`/`memory.fill` (docs/measurements.md, C toolchain). The export and import names
 * come from the SDK's `export_name`/`import_module` attributes, so nothing needs renaming.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { BuildError, ToolchainMissingError } from '../errors.js';
import { checkCSources, cLinkHint } from './plugin-checks.js';
import { cSdkDir } from './sdk-paths.js';
import { findOnPath, runTool, type CompileOpts } from './tools.js';

/** Debian packages that provide the C toolchain. */
export const C_TOOLCHAIN_PACKAGES = 'clang lld';

/** clang flags for a plugin (besides include paths, sources and output). */
export const C_FLAGS: readonly string[] = [
  '--target=wasm32',
  '-O2',
  '-mbulk-memory',
  '-nostdlib',
  '-ffreestanding',
  '-std=c11',
  '-Wall',
  '-Wextra',
  // No _start: the broker calls the exports. Stack below the data so that an overflow traps
  // instead of overwriting globals.
  '-Wl,--no-entry',
  '-Wl,--stack-first',
  // Keep the name section: a trap's stack then names the C functions (a few hundred bytes).
  '-Wl,--strip-debug',
];

/** The clang and wasm-ld a C build uses. */
export interface CToolchain {
  clang: string;
}

/**
 * Finds clang (`clang`, else `clang-14`) and checks that wasm-ld is reachable.
 * @throws {ToolchainMissingError} naming the Debian package to install.
 */
export function findCToolchain(): CToolchain {
  const clang = findOnPath('clang')[0] ?? findOnPath('clang-14')[0];
  const hint = `install it with \`apt-get install -y ${C_TOOLCHAIN_PACKAGES}\` (Debian)`;
  if (clang === undefined) throw new ToolchainMissingError('clang', hint);
  // clang runs `wasm-ld` from PATH or from its own directory.
  if (findOnPath('wasm-ld').length === 0 && findOnPath('wasm-ld', dirname(clang)).length === 0) {
    throw new ToolchainMissingError('wasm-ld (the WebAssembly linker)', `install it with \`apt-get install -y lld\` (Debian)`);
  }
  return { clang };
}

/**
 * Compiles the C plugin in `dir` to a core module (step `compile`).
 * @throws {ToolchainMissingError} when clang or wasm-ld is missing.
 * @throws {BuildError} with clang's diagnostics when compilation fails.
 */
export async function compileC(dir: string, opts: CompileOpts): Promise<Uint8Array> {
  const { clang } = findCToolchain();
  const sdk = cSdkDir();
  const sources = (await readdir(dir))
    .filter((f) => f.endsWith('.c'))
    .sort()
    .map((f) => resolve(dir, f));
  const sdkSources = (await readdir(join(sdk, 'src')))
    .filter((f) => f.endsWith('.c'))
    .sort()
    .map((f) => join(sdk, 'src', f));
  await checkCSources(dir, sources);
  const work = await mkdtemp(join(tmpdir(), 'plugbroker-c-'));
  try {
    const out = join(work, 'plugin.core.wasm');
    const args = [...C_FLAGS, '-I', join(sdk, 'include'), '-I', resolve(dir), '-o', out, ...sources, ...sdkSources];
    const { stderr } = await opts.step('compile', () =>
      runTool('compile', clang, args).catch((err: unknown) => {
        // A libc call links as an undefined symbol: say so first, the linker's words after.
        const hint = err instanceof BuildError ? cLinkHint(err.message) : undefined;
        throw hint === undefined
          ? err
          : new BuildError('compile', `${hint}\n${err instanceof Error ? err.message.replace(/^compile: /, '') : ''}`, { cause: err });
      }),
    );
    if (stderr.trim() !== '') opts.warn(stderr.trimEnd());
    return new Uint8Array(await readFile(out));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
