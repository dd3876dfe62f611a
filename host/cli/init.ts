/**
 * `broker init <dir> --lang as|c|rust [--template echo|chat]`: writes a plugin folder that
 * `broker build <dir>` builds anywhere, against the SDKs of the installed package.
 *
 * The templates are the package's own samples (`plugins/echo-*`, `plugins/chat-*`), copied with
 * what ties them to the repository rewritten: AssemblyScript imports of `../../../plugin-sdk-as/…`
 * become the `plugbroker` package (toolchain/assemblyscript.ts resolves it), the asconfig
 * `extends` is replaced by the options it supplied, and the Rust SDK dependency loses its path (the
 * build links the shipped SDK). So a template is always a sample the conformance suite runs.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { InvalidOptionError, UsageError } from '../errors.js';
import { AS_SDK_PACKAGE } from '../toolchain/assemblyscript.js';
import { C_TOOLCHAIN_PACKAGES } from '../toolchain/c.js';
import { RUST_TOOLCHAIN_PACKAGES } from '../toolchain/rust.js';
import { packageRoot } from '../toolchain/sdk-paths.js';

/** `--lang` values and the language each names. */
export const INIT_LANGUAGES = { as: 'AssemblyScript', c: 'C', rust: 'Rust' } as const;
export type InitLanguage = keyof typeof INIT_LANGUAGES;

/** `--template` values: the sample each copies, per language. */
export const INIT_TEMPLATES = {
  echo: { as: 'echo-wasm', c: 'echo-c', rust: 'echo-rust' },
  chat: { as: 'chat-as', c: 'chat-c', rust: 'chat-rust' },
} as const;
export type InitTemplate = keyof typeof INIT_TEMPLATES;

/** `broker init --help`. */
export const INIT_HELP = `Write a plugin folder to start from, which \`broker build <dir>\` builds anywhere.

Languages (--lang): as (AssemblyScript: nothing to install), c (clang + lld), rust (rustc with the
wasm32 standard library); \`broker build --help\` names the packages. Templates (--template): echo
(every frame comes back) or chat (rooms, a timer and an upstream service). The folder's README says
how to build, serve and try it.`;

/** Options of `init`. */
export interface InitOpts {
  /** `as`, `c` or `rust`. */
  lang: string;
  /** `echo` (default) or `chat`. */
  template?: string;
  /** Where progress lines go. Default: stdout. */
  print?: (line: string) => void;
}

/**
 * Writes the plugin folder `dir` and returns the files written (relative to it).
 * @throws {InvalidOptionError} for an unknown `--lang` or `--template`.
 * @throws {UsageError} `PB_ERR_INIT_DIR_NOT_EMPTY` when `dir` exists and is not an empty folder.
 */
export async function initPlugin(dir: string, opts: InitOpts): Promise<string[]> {
  const print = opts.print ?? ((line: string) => process.stdout.write(line + '\n'));
  const lang = opts.lang as InitLanguage;
  if (!Object.hasOwn(INIT_LANGUAGES, lang))
    throw new InvalidOptionError('lang', opts.lang, `one of ${Object.keys(INIT_LANGUAGES).join(', ')}`, { subject: '--lang' });
  const template = (opts.template ?? 'echo') as InitTemplate;
  if (!Object.hasOwn(INIT_TEMPLATES, template)) {
    throw new InvalidOptionError('template', opts.template, `one of ${Object.keys(INIT_TEMPLATES).join(', ')}`, { subject: '--template' });
  }
  const target = resolve(dir);
  if (existsSync(target) && (await readdir(target).catch(() => ['(a file)'])).length > 0) {
    throw new UsageError('PB_ERR_INIT_DIR_NOT_EMPTY', `${dir} already exists and is not an empty folder: choose a new one`);
  }
  const name = basename(target);
  const sample = join(packageRoot(), 'plugins', INIT_TEMPLATES[template][lang]);
  const files = await templateFiles(lang, sample, name);
  files.set('README.md', readme(lang, template, name));
  files.set('.gitignore', 'build/\n');
  for (const [file, text] of files) {
    await mkdir(join(target, file, '..'), { recursive: true });
    await writeFile(join(target, file), text);
  }
  print(`wrote ${INIT_LANGUAGES[lang]} plugin ${dir} (template ${template}): ${[...files.keys()].join(', ')}`);
  print(`next: broker build ${dir} && broker serve --plugin ${join(dir, 'build', `${name}.wasm`)}`);
  return [...files.keys()];
}

/** The sample's source files, rewritten to stand alone, by path in the new folder. */
async function templateFiles(lang: InitLanguage, sample: string, name: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  if (lang === 'as') {
    for (const file of await listFiles(join(sample, 'assembly'))) {
      files.set(relative(sample, file), rewriteAsImports(await readFile(file, 'utf8')));
    }
    // The repository's asconfig.json is what the samples extend: its options go into the file itself.
    const base = JSON.parse(await readFile(join(packageRoot(), 'asconfig.json'), 'utf8')) as Record<string, unknown>;
    files.set('asconfig.json', JSON.stringify({ entries: ['assembly/index.ts'], ...base }, null, 2) + '\n');
  } else if (lang === 'c') {
    for (const file of await listFiles(sample)) if (file.endsWith('.c') || file.endsWith('.h')) files.set(relative(sample, file), await readFile(file, 'utf8'));
  } else {
    for (const file of await listFiles(join(sample, 'src'))) files.set(relative(sample, file), await readFile(file, 'utf8'));
    files.set('Cargo.toml', rewriteCargoToml(await readFile(join(sample, 'Cargo.toml'), 'utf8'), crateName(name)));
  }
  return files;
}

/** `"../../../plugin-sdk-as/assembly/abi/exports"` → `"plugbroker/abi/exports"`. */
export function rewriteAsImports(source: string): string {
  return source.replace(
    /(["'])(?:\.\.\/)+plugin-sdk-as\/assembly(\/[^"']*)?\1/g,
    (_, q: string, rest: string | undefined) => `${q}${AS_SDK_PACKAGE}${rest ?? ''}${q}`,
  );
}

/** The package name becomes the folder's; the SDK dependency loses its repository path. */
export function rewriteCargoToml(text: string, name: string): string {
  return text
    .replace(/^(name\s*=\s*)"[^"]*"/m, `$1"${name}"`)
    .replace(/^plugbroker\s*=.*$/m, 'plugbroker = "*" # the SDK that broker build links (plugbroker/plugin-sdk-rust); no cargo needed');
}

/** A Rust package name from a folder name (`My Plugin` → `my-plugin`). */
export function crateName(folder: string): string {
  const name = folder
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '');
  return /^[a-z]/.test(name) ? name : `plugin-${name || 'x'}`;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'build') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else out.push(path);
  }
  return out.sort();
}

/** The new folder's README: the five-minute recipe for its language. */
function readme(lang: InitLanguage, template: InitTemplate, name: string): string {
  const what =
    template === 'echo'
      ? 'Every frame a peer sends comes back to it, unchanged.'
      : 'A chat: `join <room>`, `leave <room>`, `say <room> <text>`, `ping <ms>`, `cancel`, `ask <text>` (to an upstream service `logic`), one command per frame.';
  const source = { as: '`assembly/index.ts`', c: 'the `*.c` file', rust: '`src/lib.rs`' }[lang];
  const toolchain = {
    as: 'Nothing to install: the AssemblyScript compiler comes with plugbroker. The SDK is imported by package name (`import { Plugin, register } from "plugbroker"`); `broker build` provides it.',
    c: `clang and lld (Debian: \`sudo apt-get install -y ${C_TOOLCHAIN_PACKAGES}\`). \`#include <plugbroker.h>\` is found by \`broker build\`; there is no libc.`,
    rust: `rustc with the wasm32 standard library (Debian: \`sudo apt-get install -y ${RUST_TOOLCHAIN_PACKAGES}\`); no cargo. \`broker build\` links the \`plugbroker\` SDK crate; other dependencies are refused.`,
  }[lang];
  const sdk = {
    as: 'plugin-sdk-as/README.md',
    c: 'plugin-sdk-c/include/plugbroker.h',
    rust: 'plugin-sdk-rust/src/lib.rs',
  }[lang];
  const body = template === 'echo' ? 'hello' : 'join lobby';
  const trial = `printf '${body.length}\\n${body}' | nc -q1 127.0.0.1 10241`;
  return `# ${name}

A plugbroker plugin in ${INIT_LANGUAGES[lang]}, from \`broker init --lang ${lang} --template ${template}\`. ${what}

${toolchain}

\`\`\`sh
broker build .                                   # → build/${name}.wasm, each step with its time
broker serve --plugin build/${name}.wasm          # listens on 127.0.0.1:10241
${trial}   # in another terminal: a frame is its length, a newline, the body
\`\`\`

Edit ${source} and build again; a running \`broker serve\` swaps to the new build on \`kill -HUP <pid>\`
without dropping a connection. The SDK's reference is \`${sdk}\` in the plugbroker package
(\`node_modules/plugbroker/${sdk}\`), and docs/plugins.md there covers all three languages.
`;
}
