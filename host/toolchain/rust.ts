/**
 * Rust → core wasm module with Debian's rustc (1.63) and its wasm32 standard library
 * (`libstd-rust-dev-wasm32`), no cargo: the crate registry is not reachable, and a plugin depends
 * only on the SDK. Two rustc runs: the SDK crate (`plugin-sdk-rust`, `#![no_std]`) as an rlib, then
 * the plugin as a `cdylib` with `--extern plugbroker=<rlib>`. Export and import names come from the
 * SDK's `export_name`/`link_name` attributes, so nothing needs renaming.
 *
 * A rustup toolchain usually comes first on PATH and has no wasm32 target (it cannot download one
 * here), so the build takes the first `rustc` on PATH whose sysroot has
 * `lib/rustlib/wasm32-unknown-unknown` (docs/measurements.md, Toolchains).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ToolchainMissingError } from '../errors.js';
import { readCargoManifest, SDK_CRATE } from './cargo-manifest.js';
import { rustSdkDir } from './sdk-paths.js';
import { findOnPath, runTool, type CompileOpts } from './tools.js';

/** Debian packages that provide the Rust toolchain for wasm32. */
export const RUST_TOOLCHAIN_PACKAGES = 'rustc libstd-rust-dev-wasm32 lld';

/** The wasm target plugins are built for. */
export const RUST_TARGET = 'wasm32-unknown-unknown';

/** rustc flags shared by the SDK and the plugin. */
export const RUST_FLAGS: readonly string[] = ['--target', RUST_TARGET, '-C', 'opt-level=s', '-C', 'panic=abort', '--color', 'never'];

/** Extra rustc flags for the plugin itself (the final module). */
export const RUST_PLUGIN_FLAGS: readonly string[] = [
  '--crate-type',
  'cdylib',
  '-C',
  'lto',
  '-C',
  'codegen-units=1',
  // Keep the name section: a trap's stack then names the Rust functions (≈ 20 % of the size).
  '-C',
  'strip=debuginfo',
];

/** A rustc that can build for `wasm32-unknown-unknown`. */
export interface RustToolchain {
  rustc: string;
}

const HINT = `install it with \`apt-get install -y ${RUST_TOOLCHAIN_PACKAGES}\` (Debian)`;

/**
 * Finds the first rustc on PATH that has the wasm32 standard library, and the wasm linker.
 * @throws {ToolchainMissingError} naming the Debian packages to install.
 */
export async function findRustToolchain(): Promise<RustToolchain> {
  const candidates = findOnPath('rustc');
  if (candidates.length === 0) throw new ToolchainMissingError('rustc', HINT);
  for (const rustc of candidates) {
    let sysroot: string;
    try {
      sysroot = (await runTool('toolchain', rustc, ['--print', 'sysroot'])).stdout.trim();
    } catch {
      continue; // e.g. a rustup shim without a default toolchain
    }
    if (!existsSync(join(sysroot, 'lib', 'rustlib', RUST_TARGET, 'lib'))) continue;
    // rustc links wasm with `rust-lld`: Debian links it to lld; rustup ships it in the sysroot.
    if (findOnPath('rust-lld').length === 0 && !(await hasSysrootLld(sysroot))) {
      throw new ToolchainMissingError('rust-lld (the WebAssembly linker)', 'install it with `apt-get install -y lld` (Debian)');
    }
    return { rustc };
  }
  throw new ToolchainMissingError(`the ${RUST_TARGET} standard library (for ${candidates.join(', ')})`, HINT);
}

async function hasSysrootLld(sysroot: string): Promise<boolean> {
  const rustlib = join(sysroot, 'lib', 'rustlib');
  const hosts = await readdir(rustlib).catch(() => [] as string[]);
  return hosts.some((h) => findOnPath('rust-lld', join(rustlib, h, 'bin')).length > 0);
}

/**
 * Compiles the Rust plugin in `dir` (its `Cargo.toml`) to a core module, in steps `toolchain`,
 * `sdk` and `compile`. The SDK is the one the manifest's `plugbroker = { path = … }` names, else
 * the one shipped with plugbroker.
 * @throws {ToolchainMissingError} when rustc, its wasm32 standard library or the linker is missing.
 * @throws {BuildError} with rustc's diagnostics when compilation fails.
 */
export async function compileRust(dir: string, opts: CompileOpts): Promise<Uint8Array> {
  const crate = await readCargoManifest(dir);
  const { rustc } = await opts.step('toolchain', findRustToolchain);
  const sdkLib = join(crate.sdkPath ?? rustSdkDir(), 'src', 'lib.rs');
  const work = await mkdtemp(join(tmpdir(), 'plugbroker-rust-'));
  try {
    const rlib = join(work, `lib${SDK_CRATE}.rlib`);
    const sdkArgs = [...RUST_FLAGS, '--edition', '2021', '--crate-type', 'rlib', '--crate-name', SDK_CRATE, '-o', rlib, sdkLib];
    const sdk = await opts.step('sdk', () => runTool('sdk', rustc, sdkArgs));
    if (sdk.stderr.trim() !== '') opts.warn(sdk.stderr.trimEnd());

    const out = join(work, `${crate.crateName}.wasm`);
    const args = [
      ...RUST_FLAGS,
      ...RUST_PLUGIN_FLAGS,
      '--edition',
      crate.edition,
      '--crate-name',
      crate.crateName,
      '--extern',
      `${SDK_CRATE}=${rlib}`,
      '-o',
      out,
      crate.libPath,
    ];
    const plugin = await opts.step('compile', () => runTool('compile', rustc, args));
    if (plugin.stderr.trim() !== '') opts.warn(plugin.stderr.trimEnd());
    return new Uint8Array(await readFile(out));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
