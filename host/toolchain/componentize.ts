/**
 * Core module → plugin component: rename exports to the WIT's kebab-case names, embed the WIT,
 * and wrap with wit-component (jco's `componentEmbed` + `componentNew`, which also type-check the
 * module against the world).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError } from '../errors.js';
import { FILTER_EXPORTS, TIMER_EXPORT, WIT_FILTER_WORLD, WIT_WORLD, WORLD_EXPORTS, findWitDir } from '../plugin/world.js';

/** Export names AssemblyScript can produce (`handle_msg`) mapped to WIT names (`handle-msg`). */
const SNAKE_TO_WIT = new Map([...WORLD_EXPORTS, TIMER_EXPORT, ...FILTER_EXPORTS].filter((n) => n.includes('-')).map((n) => [n.replaceAll('-', '_'), n]));

/**
 * Renames every function export spelled like a WIT export with `_` for `-` to the WIT name
 * (languages such as AssemblyScript cannot export `handle-msg`). Uses binaryen, which
 * AssemblyScript ships with. Returns the module unchanged when nothing needs renaming.
 */
export async function renameExports(core: Uint8Array): Promise<Uint8Array> {
  const { default: binaryen } = await import('binaryen');
  // Keep the name section: trap reports then name the plugin's functions, not wasm-function[202].
  binaryen.setDebugInfo(true);
  const mod = binaryen.readBinary(core);
  try {
    let renamed = 0;
    for (let i = mod.getNumExports() - 1; i >= 0; i--) {
      const info = binaryen.getExportInfo(mod.getExportByIndex(i));
      const witName = SNAKE_TO_WIT.get(info.name);
      if (witName === undefined || info.kind !== binaryen.ExternalFunction) continue;
      mod.removeExport(info.name);
      mod.addFunctionExport(info.value, witName);
      renamed++;
    }
    return renamed === 0 ? core : mod.emitBinary();
  } finally {
    mod.dispose();
  }
}

/**
 * Embeds the WIT world into `core` and wraps it as a component: world `filter` when the module
 * exports `handle-send` (a filter of a plugin chain), else `plugin`.
 * @throws {BuildError} naming what does not match the world.
 */
export async function componentize(core: Uint8Array, stringEncoding: 'utf8' | 'utf16'): Promise<Uint8Array> {
  const { componentEmbed, componentNew } = await import('@bytecodealliance/jco');
  const witSource = await readFile(join(findWitDir(), 'plugin.wit'), 'utf8');
  const filter = exportsFunction(core, FILTER_EXPORTS[0]);
  try {
    const embedded = await componentEmbed({ binary: core, witSource, world: filter ? WIT_FILTER_WORLD : WIT_WORLD, stringEncoding });
    return await componentNew(embedded, undefined);
  } catch (cause) {
    throw new BuildError('component', (cause as Error).message ?? String(cause), { cause });
  }
}

/** Whether `core` exports `name` (false for bytes that do not compile: wit-component reports those). */
function exportsFunction(core: Uint8Array, name: string): boolean {
  try {
    return WebAssembly.Module.exports(new WebAssembly.Module(core as Uint8Array<ArrayBuffer>)).some((e) => e.name === name);
  } catch {
    return false;
  }
}
