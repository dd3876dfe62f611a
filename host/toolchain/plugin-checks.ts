/**
 * The common slips of each language, caught by `broker build` with what is wrong and how to fix
 * it (issue #14), instead of a component that validates and then traps, or a message from deep in
 * the toolchain (`failed to resolve import env::abort`):
 * - AssemblyScript: no `register(new MyPlugin())`; no `export * from "plugbroker/abi/exports"`;
 *   an `env.*` import left (no `"use": ["abort="]`, `trace()`, `Math.random`).
 * - C: a handler whose name is no `pb_on_*` handler of the SDK (a typo keeps the SDK's default,
 *   silently); a libc function (there is no libc).
 * - Rust: no `export_plugin!(MyPlugin)`.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { BuildError } from '../errors.js';
import { WORLD_EXPORTS } from '../plugin/world.js';
import { closestName } from '../config/suggest.js';
import { AS_SDK_PACKAGE } from './assemblyscript.js';
import { cSdkDir } from './sdk-paths.js';

/** Languages the checks know. */
export type CheckedLanguage = 'assemblyscript' | 'c' | 'rust';

/** Source text without comments (strings kept), so that a commented-out call does not count. */
export function stripComments(source: string): string {
  return source.replace(
    /\/\*[\s\S]*?\*\/|\/\/[^\n]*|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`)/g,
    (m, str: string | undefined) => str ?? m.replace(/[^\n]/g, ' '),
  );
}

/** Every `*.ts` file under `dir` (skipping build/ and node_modules/). */
async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'build' || entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await tsFiles(path)));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/**
 * Before compiling an AssemblyScript plugin: it must call `register(…)` somewhere in its sources,
 * or every call traps with `unreachable` once served.
 * @throws {BuildError} step `check`.
 */
export async function checkAssemblyScriptSources(dir: string): Promise<void> {
  const files = await tsFiles(dir);
  for (const file of files) if (/\bregister\s*\(/.test(stripComments(await readFile(file, 'utf8')))) return;
  throw new BuildError(
    'check',
    `${dir}: no register(…) call: the plugin would trap on its first call. Add \`register(new MyPlugin());\` at the top level of the entry file ` +
      `(import { Plugin, register } from "${AS_SDK_PACKAGE}")`,
  );
}

/** AS export names of the world's functions (the build renames `handle_msg` to `handle-msg`). */
const AS_EXPORTS = WORLD_EXPORTS.map((n) => n.replaceAll('-', '_'));

/** What an `env` import of an AssemblyScript module usually comes from. */
const ENV_IMPORT_HINTS: Readonly<Record<string, string>> = {
  abort: 'set "options": { "use": ["abort="] } in asconfig.json (broker init writes it), or extend an asconfig.json that does',
  trace: 'trace() prints through the host, which the broker does not offer: log with log.info(…) from the SDK',
  seed: 'Math.random needs a seed from the host, which the broker does not offer: derive numbers from now() or the payload',
};

/**
 * After compiling: the core module must export the world's functions (the SDK's entry points)
 * and import nothing but the broker's interfaces.
 * @throws {BuildError} step `check`, naming the fix for the language.
 */
export function checkCoreModule(core: Uint8Array, language: CheckedLanguage, dir: string): void {
  const mod = new WebAssembly.Module(core as Uint8Array<ArrayBuffer>);
  const exports = new Set(WebAssembly.Module.exports(mod).map((e) => e.name));
  const expected = language === 'assemblyscript' ? AS_EXPORTS : WORLD_EXPORTS;
  const missing = expected.filter((n) => !exports.has(n));
  if (missing.length === expected.length) {
    if (language === 'assemblyscript') {
      throw new BuildError(
        'check',
        `${dir}: the module exports none of the plugin entry points (${WORLD_EXPORTS.join(', ')}): the entry file must re-export them with ` +
          `\`export * from "${AS_SDK_PACKAGE}/abi/exports";\``,
      );
    }
    if (language === 'rust') {
      throw new BuildError(
        'check',
        `${dir}: the crate exports none of the plugin entry points: add \`export_plugin!(MyPlugin);\` after \`impl Plugin for MyPlugin\` (use plugbroker::export_plugin)`,
      );
    }
  }
  if (language === 'assemblyscript') {
    const env = WebAssembly.Module.imports(mod).filter((i) => i.module === 'env');
    if (env.length > 0) {
      const first = env[0].name;
      throw new BuildError(
        'check',
        `${dir}: the module imports ${env.map((i) => `env.${i.name}`).join(', ')}, which the broker does not offer: ${ENV_IMPORT_HINTS[first] ?? 'remove what uses it'}`,
      );
    }
  }
}

/** The `pb_on_*` handlers the C SDK declares (read from its header, so the list cannot go stale). */
export async function cHandlerNames(): Promise<string[]> {
  const header = stripComments(await readFile(join(cSdkDir(), 'include', 'plugbroker.h'), 'utf8'));
  return [...new Set([...header.matchAll(/^[A-Za-z_][\w \t*]*?\b(pb_on_[a-z_]+)\s*\(/gm)].map((m) => m[1]))];
}

/**
 * Before compiling a C plugin: a function named `pb_on_…` that is no handler of the SDK is a typo
 * that would leave the SDK's default handler in place without a word.
 * @throws {BuildError} step `check`.
 */
export async function checkCSources(dir: string, sources: readonly string[]): Promise<void> {
  const handlers = await cHandlerNames();
  for (const file of sources) {
    const text = stripComments(await readFile(file, 'utf8'));
    for (const m of text.matchAll(/^[A-Za-z_][\w \t*]*?\b(pb_on_[A-Za-z0-9_]+)\s*\([^;{]*\)\s*\{/gm)) {
      if (handlers.includes(m[1])) continue;
      const line = text.slice(0, m.index).split('\n').length;
      const near = closestName(m[1], handlers);
      throw new BuildError(
        'check',
        `${relative(process.cwd(), file) || file}:${line}: ${m[1]} is not a handler of the C SDK, so it would never be called` +
          `${near === undefined ? '' : ` (did you mean ${near}?)`}; the handlers are ${handlers.join(', ')}`,
      );
    }
  }
}

/**
 * A hint for a C link error about a function that does not exist in a plugin (there is no libc).
 * Returns undefined when the diagnostics name no undefined symbol.
 */
export function cLinkHint(diagnostics: string): string | undefined {
  const symbols = [...new Set([...diagnostics.matchAll(/undefined symbol: (\w+)/g)].map((m) => m[1]))];
  if (symbols.length === 0) return undefined;
  return `undefined: ${symbols.join(', ')}. A plugin has no libc: use pb_malloc/pb_free, pb_log and the other functions of plugbroker.h, or write the function yourself`;
}
