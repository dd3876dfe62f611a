/**
 * Loads a plugin component from disk into a `PluginSpec`: reads it, checks that it is a component,
 * extracts its main core module, refuses imports outside `plugbroker:plugin`, and validates the
 * module against the WIT world with jco's `componentEmbed` + `componentNew` (the same check the build
 * runs). Every refusal is one line naming what is wrong.
 *
 * The component is *not* run through jco's transpiled glue: that glue costs ≈ 14 µs per call
 * (docs/plugin-runtime.md). The runtime calls the main core module's exports directly (see ../abi/instance.ts).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { PluginForbiddenImportError, PluginLoadError, PluginNotComponentError, PluginWitVersionError, PluginWorldMismatchError } from '../../errors.js';
import { DEFAULT_PLUGIN_MEMORY_MAX_MB } from '../../limits.js';
import { binaryKind, readComponent } from './component-reader.js';
import { instrumentFuel } from './fuel.js';
import { capMemory, pagesForMb } from './memory-cap.js';
import type { PluginSpec } from './plugin-spec.js';
import {
  ABI_EXPORTS,
  ALLOWED_IMPORTS,
  FILTER_EXPORTS,
  STATEFUL_EXPORTS,
  TIMER_EXPORT,
  WIT_IMPORT_MODULE_PATTERN,
  WIT_PACKAGE,
  WIT_VERSION,
  WIT_WORLD,
  WORLD_EXPORTS,
  findWitDir,
  worldFor,
} from '../world.js';

const REQUIRED_EXPORTS = [...ABI_EXPORTS, ...WORLD_EXPORTS];

/** Options of `loadPlugin`. */
export interface LoadOptions {
  /** Cap on the plugin's linear memory, in MiB (rewritten into the module). Default 64. */
  memoryMaxMb?: number;
  /** Fuel (steps: loop iterations and calls) per plugin call; 0 = no fuel counter. Default 0. */
  callFuel?: number;
}

/**
 * Reads and validates the component at `path`, and caps its memory at `opts.memoryMaxMb`.
 * @throws {PluginLoadError} unreadable file or a core module that does not compile.
 * @throws {PluginNotComponentError} not WebAssembly, or a core module instead of a component.
 * @throws {PluginWitVersionError} a component built for another version of the WIT package.
 * @throws {PluginForbiddenImportError} imports other than the package's interfaces.
 * @throws {PluginWorldMismatchError} a component of another world.
 */
export async function loadPlugin(path: string, opts: LoadOptions = {}): Promise<PluginSpec> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new PluginLoadError(path, `cannot read plugin ${path}: ${(cause as Error).message}`, { cause });
  }
  const kind = binaryKind(bytes);
  if (kind === 'not-wasm') throw new PluginNotComponentError(path, `${path} is not a WebAssembly file`);
  if (kind === 'core-module') {
    throw new PluginNotComponentError(path, `${path} is a core WebAssembly module, not a component: build it with \`broker build\``);
  }

  let parts;
  try {
    parts = readComponent(bytes);
  } catch (cause) {
    throw new PluginLoadError(path, `${path} is not a valid component: ${(cause as Error).message}`, { cause });
  }
  if (parts.stringEncoding === 'latin1+utf16') {
    throw new PluginWorldMismatchError(path, `${path} uses string-encoding=latin1+utf16; plugbroker supports utf8 and utf16`);
  }

  const main = await findMainModule(path, parts.coreModules);
  checkWitVersion(path, main.module);
  checkImports(path, main.module);
  const exports = new Set(WebAssembly.Module.exports(main.module).map((e) => e.name));
  const stateful = STATEFUL_EXPORTS.every((n) => exports.has(n));
  const timed = exports.has(TIMER_EXPORT);
  const filter = exports.has(FILTER_EXPORTS[0]);
  await validateAgainstWorld(path, main.bytes, parts.stringEncoding, worldFor(stateful, timed, filter));

  let capped;
  try {
    capped = capMemory(main.bytes, pagesForMb(opts.memoryMaxMb ?? DEFAULT_PLUGIN_MEMORY_MAX_MB));
  } catch (cause) {
    throw new PluginLoadError(path, `${path}: ${(cause as Error).message} (raise --plugin-memory-max-mb)`, { cause });
  }
  let core = capped.bytes;
  const callFuel = opts.callFuel ?? 0;
  if (callFuel > 0) {
    try {
      core = await instrumentFuel(core);
    } catch (cause) {
      throw new PluginLoadError(path, `${path}: cannot add a fuel counter: ${(cause as Error).message}`, { cause });
    }
  }
  const module = core === main.bytes ? main.module : await WebAssembly.compile(core as Uint8Array<ArrayBuffer>);
  return Object.freeze({
    path,
    name: basename(path).replace(/\.wasm$/, ''),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    sizeBytes: bytes.length,
    module,
    stringEncoding: parts.stringEncoding,
    hasPostStart: exports.has('cabi_post_start'),
    stateful,
    timed,
    filter,
    hasPostSnapshot: exports.has('cabi_post_snapshot'),
    maxMemoryPages: capped.maxPages,
    callFuel,
  });
}

/** The core module that exports the world's functions; wit-component adds small shim modules beside it. */
async function findMainModule(path: string, modules: readonly Uint8Array[]): Promise<{ bytes: Uint8Array; module: WebAssembly.Module }> {
  let best: { bytes: Uint8Array; module: WebAssembly.Module; missing: string[] } | undefined;
  for (const bytes of modules) {
    let module: WebAssembly.Module;
    try {
      module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    } catch (cause) {
      throw new PluginLoadError(path, `${path}: a core module does not compile: ${(cause as Error).message}`, { cause });
    }
    const names = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
    const missing = REQUIRED_EXPORTS.filter((n) => !names.has(n));
    if (best === undefined || missing.length < best.missing.length) best = { bytes, module, missing };
  }
  if (best === undefined) throw new PluginWorldMismatchError(path, `${path} contains no core module`);
  if (best.missing.length > 0) {
    throw new PluginWorldMismatchError(path, `${path} does not implement ${WIT_PACKAGE} world ${WIT_WORLD}: missing exports ${best.missing.join(', ')}`);
  }
  return best;
}

/** Refuses a module whose `plugbroker:plugin/…@<version>` imports name another version than this broker's. */
function checkWitVersion(path: string, module: WebAssembly.Module): void {
  for (const i of WebAssembly.Module.imports(module)) {
    const version = WIT_IMPORT_MODULE_PATTERN.exec(i.module)?.[2];
    if (version !== undefined && version !== WIT_VERSION) throw new PluginWitVersionError(path, version, WIT_VERSION);
  }
}

function checkImports(path: string, module: WebAssembly.Module): void {
  const offending = WebAssembly.Module.imports(module)
    .filter((i) => i.kind !== 'function' || ALLOWED_IMPORTS.get(i.module)?.includes(i.name) !== true)
    .map((i) => `${i.module}#${i.name}`);
  if (offending.length > 0) throw new PluginForbiddenImportError(path, offending);
}

let witSource: string | undefined;

/** Type-checks the module's imports and exports against the WIT with wit-component (through jco). */
async function validateAgainstWorld(path: string, core: Uint8Array, stringEncoding: 'utf8' | 'utf16', world: string): Promise<void> {
  // jco is imported lazily: it costs ≈ 150 ms to load and is only needed here and in `broker build`.
  const { componentEmbed, componentNew } = await import('@bytecodealliance/jco');
  witSource ??= await readFile(join(findWitDir(), 'plugin.wit'), 'utf8');
  try {
    const embedded = await componentEmbed({ binary: core, witSource, world, stringEncoding });
    await componentNew(embedded, undefined);
  } catch (cause) {
    throw new PluginWorldMismatchError(path, `${path} does not match ${WIT_PACKAGE} world ${world}: ${mostSpecificCause(cause)}`, { cause });
  }
}

/** wit-component reports a chain of causes; the last one names the actual mismatch. */
function mostSpecificCause(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const lines = text
    .split('\n')
    .map((l) => l.trim().replace(/^\d+:\s*/, ''))
    .filter(Boolean);
  return lines[lines.length - 1] ?? 'unknown error';
}
