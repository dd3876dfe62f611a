/**
 * The few fields of a plugin's `Cargo.toml` that `broker build` needs, read without cargo (the
 * crate registry is not reachable and the build uses plain rustc): the crate name and edition, the
 * library's source path, and the `plugbroker` SDK dependency. Anything else under
 * `[dependencies]` is refused, since plain rustc cannot fetch or build it.
 *
 * This is a line-oriented reader for the subset of TOML a plugin manifest uses (`[table]`,
 * `key = "string"`, `key = { path = "…" }`), not a TOML parser; values it does not understand are
 * ignored unless the build needs them.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BuildError } from '../errors.js';

/** What the build takes from a plugin's Cargo.toml. */
export interface RustCrate {
  /** `[package] name`, as written (`echo-rust`). */
  packageName: string;
  /** The rustc crate name (`echo_rust`). */
  crateName: string;
  /** `[package] edition`; `2021` when absent. */
  edition: string;
  /** Absolute path of the library root (`[lib] path`, default `src/lib.rs`). */
  libPath: string;
  /** Absolute path of the SDK crate from `plugbroker = { path = "…" }`, if the manifest names one. */
  sdkPath: string | undefined;
}

/** Name of the SDK dependency. */
export const SDK_CRATE = 'plugbroker';

/**
 * Reads `<dir>/Cargo.toml`.
 * @throws {BuildError} (step `manifest`) when it has no package name, names a dependency other than
 * the SDK, or cannot be read.
 */
export async function readCargoManifest(dir: string): Promise<RustCrate> {
  const file = join(dir, 'Cargo.toml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new BuildError('manifest', `cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
  const tables = parseTables(text);
  const pkg = tables.get('package') ?? new Map<string, string>();
  const packageName = unquote(pkg.get('name'));
  if (packageName === undefined) throw new BuildError('manifest', `${file}: [package] has no name`);
  const libPath = unquote(tables.get('lib')?.get('path')) ?? 'src/lib.rs';

  let sdkPath: string | undefined;
  for (const [name, value] of tables.get('dependencies') ?? []) {
    if (name !== SDK_CRATE) {
      throw new BuildError(
        'manifest',
        `${file}: dependency \`${name}\` is not supported: broker build compiles with plain rustc and links only the ${SDK_CRATE} SDK`,
      );
    }
    const path = /\bpath\s*=\s*"([^"]*)"/.exec(value)?.[1];
    if (path !== undefined) sdkPath = resolve(dir, path);
  }
  return {
    packageName,
    crateName: packageName.replaceAll('-', '_'),
    edition: unquote(pkg.get('edition')) ?? '2021',
    libPath: resolve(dir, libPath),
    sdkPath,
  };
}

/** `table → key → raw value text` for each `[table]` of a simple TOML document. */
function parseTables(text: string): Map<string, Map<string, string>> {
  const tables = new Map<string, Map<string, string>>();
  let current = new Map<string, string>();
  tables.set('', current);
  for (const rawLine of text.split('\n')) {
    const line = stripComment(rawLine).trim();
    if (line === '') continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header !== null) {
      current = new Map();
      tables.set(header[1].trim(), current);
      continue;
    }
    const kv = /^("?[A-Za-z0-9_.-]+"?)\s*=\s*(.*)$/.exec(line);
    if (kv !== null) current.set(kv[1].replaceAll('"', ''), kv[2]);
  }
  return tables;
}

/** A line without its `# comment` (a `#` inside a string is kept). */
function stripComment(line: string): string {
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"' && line[i - 1] !== '\\') inString = !inString;
    else if (line[i] === '#' && !inString) return line.slice(0, i);
  }
  return line;
}

/** The text of a `"string"` value; undefined for anything else. */
function unquote(value: string | undefined): string | undefined {
  const m = value === undefined ? null : /^"([^"]*)"$/.exec(value.trim());
  return m === null ? undefined : m[1];
}
