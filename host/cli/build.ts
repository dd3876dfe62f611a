/**
 * `broker build <plugin dir> [-o out.wasm]`: source → core module → component, validated against
 * the world, printing each step with its time.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { BuildError } from '../errors.js';
import { loadPlugin } from '../plugin/load/loader.js';
import { compileAssemblyScript } from '../toolchain/assemblyscript.js';
import { C_TOOLCHAIN_PACKAGES, compileC } from '../toolchain/c.js';
import { compileRust, RUST_TOOLCHAIN_PACKAGES } from '../toolchain/rust.js';
import { componentize, renameExports } from '../toolchain/componentize.js';
import { checkAssemblyScriptSources, checkCoreModule } from '../toolchain/plugin-checks.js';

/** `broker build --help`: what it does, and each language with its marker file and toolchain. */
export const BUILD_HELP = `Compile a plugin folder into a component and validate it against the WIT world.

The language comes from the folder:
  AssemblyScript  asconfig.json  asc, a dependency of plugbroker: nothing to install
  C               a *.c file     clang 14 + lld, no libc (Debian: apt-get install -y ${C_TOOLCHAIN_PACKAGES})
  Rust            Cargo.toml     rustc with the wasm32 standard library, no cargo
                                 (Debian: apt-get install -y ${RUST_TOOLCHAIN_PACKAGES})
Each step is printed with its time; a missing toolchain is one line naming the package to install.`;

/** Options of `build`. */
export interface BuildOpts {
  /** Output component path. Default `<dir>/build/<dir name>.wasm`. */
  out?: string;
  /** Where step lines go. Default: stdout. */
  print?: (line: string) => void;
}

/** Languages `broker build` recognises, by the file that marks them. */
export type PluginLanguage = 'assemblyscript' | 'rust' | 'c';

/** Detects a plugin's language from its folder. */
export function detectLanguage(dir: string): PluginLanguage {
  if (existsSync(join(dir, 'asconfig.json'))) return 'assemblyscript';
  if (existsSync(join(dir, 'Cargo.toml'))) return 'rust';
  if (existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.c'))) return 'c';
  throw new BuildError('detect', `${dir}: no asconfig.json (AssemblyScript), Cargo.toml (Rust) or *.c file (C) found`);
}

/**
 * Builds the plugin in `dir` and returns the component's path.
 * @throws {BuildError} at the step that failed.
 * @throws {ToolchainMissingError} when the compiler the language needs is not installed.
 */
export async function build(dir: string, opts: BuildOpts = {}): Promise<string> {
  const print = opts.print ?? ((line: string) => process.stdout.write(line + '\n'));
  const out = resolve(opts.out ?? join(dir, 'build', `${basename(resolve(dir))}.wasm`));
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const result = await fn();
    print(`  ${name.padEnd(10)} ${(performance.now() - t0).toFixed(0).padStart(5)} ms`);
    return result;
  };

  const language = detectLanguage(dir);
  print(`building ${dir} (${language}) → ${out}`);
  let component: Uint8Array;
  if (language === 'assemblyscript') {
    await checkAssemblyScriptSources(dir);
    const core = await step('compile', () => compileAssemblyScript(dir));
    checkCoreModule(core, 'assemblyscript', dir);
    const renamed = await step('rename', () => renameExports(core));
    component = await step('component', () => componentize(renamed, 'utf16'));
  } else {
    // C and Rust export the WIT names themselves (SDK attributes) and pass strings as UTF-8.
    const warn = (text: string): void => print(text.replace(/^/gm, '    '));
    const core = await (language === 'c' ? compileC : compileRust)(dir, { step, warn });
    checkCoreModule(core, language, dir);
    component = await step('component', () => componentize(core, 'utf8'));
  }
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, component);
  await step('validate', () => loadPlugin(out));
  print(`built ${out} (${component.length} bytes)`);
  return out;
}
