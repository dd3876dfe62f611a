/**
 * The config file of `broker serve --config <file>`: YAML (JSON is YAML too), one map whose keys
 * are the flags without their dashes (`max-frame-bytes: 1048576`). A repeatable flag is a list
 * (`listen: [tcp://…, ws://…]`) or a map (`upstream: { logic: { nodes: [host:port, …], policy: … } }`).
 * Relative paths (`plugin:`, `plugin-config: "@file"`) are relative to the file's folder.
 *
 * Every problem names the file, the line and the key path (`broker.yaml:12 listen[1]: …`): parse
 * errors here, value errors through the `lineOf` of the file's `OptionSource` (resolve.ts).
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { BrokerError, ConfigFileError, UnknownOptionError } from '../errors.js';
import type { OptionSource, OptionSources } from './resolve.js';
import { OPTION_BY_FILE_KEY, OPTION_DEFS, type OptionKey } from './schema.js';
import { closestName } from './suggest.js';

/** Keys a file may hold besides options: `$schema` (for editors) is ignored. */
const IGNORED_KEYS = new Set(['$schema']);

/** What a config file contributes. */
export interface ConfigFileOptions {
  /** The path as given. */
  readonly file: string;
  readonly values: Partial<Record<OptionKey, unknown>>;
  readonly sources: OptionSources;
  /** Unknown keys (the file was read; its values are in `values`). */
  readonly errors: readonly BrokerError[];
}

/**
 * Reads and parses a config file.
 * @throws {ConfigFileError} `PB_ERR_CONFIG_FILE` when it cannot be read, `PB_ERR_CONFIG_SYNTAX`
 * when it is not YAML or not a map.
 */
export async function readConfigFile(file: string): Promise<ConfigFileOptions> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a folder, not a file' : (cause as Error).message;
    throw new ConfigFileError('PB_ERR_CONFIG_FILE', file, undefined, `cannot read the config file: ${why}`, { cause });
  }
  return parseConfigText(file, text);
}

/**
 * Parses config file text (`file` names it in messages and anchors relative paths).
 * @throws {ConfigFileError} `PB_ERR_CONFIG_SYNTAX`.
 */
export function parseConfigText(file: string, text: string): ConfigFileOptions {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number): number => lines.linePos(offset).line;
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    throw new ConfigFileError('PB_ERR_CONFIG_SYNTAX', file, lineAt(err.pos[0]), err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, ''));
  }
  const root = doc.contents;
  if (root !== null && !isMap(root)) {
    throw new ConfigFileError('PB_ERR_CONFIG_SYNTAX', file, lineAt(root.range?.[0] ?? 0), 'must be a map of option: value (max-frame-bytes: 1048576)');
  }
  const source: OptionSource = Object.freeze({ kind: 'file', file, lineOf: (path: readonly (string | number)[]) => lineOf(doc, path, lineAt) });
  const values: Partial<Record<OptionKey, unknown>> = {};
  const sources: OptionSources = {};
  const errors: BrokerError[] = [];
  const data = (doc.toJS({ maxAliasCount: 100 }) ?? {}) as Record<string, unknown>;
  const base = dirname(resolve(file));
  for (const [key, value] of Object.entries(data)) {
    if (IGNORED_KEYS.has(key)) continue;
    const def = OPTION_BY_FILE_KEY.get(key);
    if (def === undefined) {
      const line = source.lineOf([key]);
      const near = closestName(
        key,
        OPTION_DEFS.map((d) => d.fileKey),
      );
      errors.push(new UnknownOptionError(key, `${file}${line === undefined ? '' : `:${line}`} ${key}: is not an option`, near));
      continue;
    }
    if (value === null) continue; // `key:` with nothing after it: as if absent
    values[def.key] = def.meta.path === undefined ? value : anchorPath(value, def.meta.path, base);
    sources[def.key] = source;
  }
  return { file, values, sources, errors };
}

/** A relative path in the file → absolute, against the file's folder. */
function anchorPath(value: unknown, kind: 'file' | 'at-file', base: string): unknown {
  if (Array.isArray(value)) return value.map((item) => anchorPath(item, kind, base)); // a plugin chain
  if (typeof value !== 'string') return value;
  if (kind === 'at-file') return value.startsWith('@') && !isAbsolute(value.slice(1)) ? `@${resolve(base, value.slice(1))}` : value;
  return isAbsolute(value) || value === '' ? value : resolve(base, value);
}

/** Line of the deepest node found along `path` (a map key's line for a map entry). */
export function lineOf(doc: Document, path: readonly (string | number)[], lineAt: (offset: number) => number): number | undefined {
  let node: unknown = doc.contents;
  let line: number | undefined = node !== null && (node as Node).range ? lineAt((node as Node).range![0]) : undefined;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (pair === undefined) break;
      const key = pair.key as Node;
      if (key.range) line = lineAt(key.range[0]);
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (item === undefined) break;
      if (item.range) line = lineAt(item.range[0]);
      node = item;
    } else {
      break;
    }
  }
  return line;
}
