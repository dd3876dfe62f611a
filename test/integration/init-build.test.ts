/**
 * `broker init` + `broker build` outside the repository (issue #14 items 2 and 3): each language's
 * template builds in a temp folder against the shipped SDKs and serves; each common slip is caught
 * at build time with what is wrong and how to fix it (code PB_ERR_BUILD_FAILED), before anything
 * is served.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../../host/cli/build.js';
import { initPlugin } from '../../host/cli/init.js';
import { runCli } from '../../host/cli/program.js';
import { startBroker } from '../helpers/broker.js';
import { connectClient } from '../helpers/client.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'plugbroker-init-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const quiet = { print: () => {} };
/** A build compiles: seconds on a quiet machine, much more on this loaded one. */
const BUILD_TIMEOUT_MS = 180_000;

/** Serves `component`, sends `body`, returns the first reply. */
async function roundTrip(component: string, body: string): Promise<string> {
  const tb = await startBroker({ plugin: component });
  try {
    const c = await connectClient(tb.port);
    c.send(body);
    const reply = (await c.readFrame()).toString();
    c.close();
    return reply;
  } finally {
    await tb.stop();
  }
}

/** `init` into a fresh folder of `work`; returns its path. */
async function init(name: string, lang: string, template = 'echo'): Promise<string> {
  const dir = join(work, name);
  await initPlugin(dir, { lang, template, ...quiet });
  return dir;
}

describe('broker init', () => {
  // Building and serving each language's folder: recipes.test.ts (the documented recipes start with init).
  it('writes a README that says how to build, serve and try the folder', async () => {
    const dir = await init('echo-c', 'c');
    const readme = await readFile(join(dir, 'README.md'), 'utf8');
    expect(readme).toContain('broker build .');
    expect(readme).toContain('broker serve --plugin build/echo-c.wasm');
    expect(readme).toContain("printf '5\\nhello' | nc -q1 127.0.0.1 10241");
  });

  it(
    'writes AssemblyScript that imports the SDK by package name, with no path out of its folder',
    async () => {
      const dir = await init('chat-as', 'as', 'chat');
      const source = await readFile(join(dir, 'assembly', 'index.ts'), 'utf8');
      expect(source).toContain('from "plugbroker"');
      expect(source).not.toMatch(/from\s+["']\.\.\//);
      expect(JSON.parse(await readFile(join(dir, 'asconfig.json'), 'utf8'))).not.toHaveProperty('extends');
      expect(await roundTrip(await build(dir, quiet), 'join lobby')).toBe('joined lobby 1');
    },
    BUILD_TIMEOUT_MS,
  );

  it('refuses a folder that is not empty, an unknown language and an unknown template (exit 2)', async () => {
    const dir = join(work, 'taken');
    await writeFile(dir, 'a file, not a folder');
    const cases: [string[], string][] = [
      [['init', dir, '--lang', 'c'], 'PB_ERR_INIT_DIR_NOT_EMPTY'],
      [['init', join(work, 'go'), '--lang', 'go'], 'PB_ERR_INVALID_OPTION'],
      [['init', join(work, 'tpl'), '--lang', 'c', '--template', 'game'], 'PB_ERR_INVALID_OPTION'],
      [['init', join(work, 'nolang')], 'PB_ERR_USAGE_MISSING_FLAG'],
    ];
    for (const [args, code] of cases) {
      let stderr = '';
      const status = await runCli(args, { stdout: () => {}, stderr: (t) => (stderr += t), env: {} });
      expect(status, args.join(' ')).toBe(2);
      expect(stderr).toMatch(new RegExp(`^broker: [^\\n]* \\[${code}\\]\\n$`));
    }
  });
});

describe('broker build catches the common slips', () => {
  /** Copies template folder `from` to `name`, edits one file, and returns the build's error. */
  async function slip(from: string, name: string, file: string, edit: (text: string) => string): Promise<{ code: string; step: string; message: string }> {
    const dir = join(work, name);
    await initPlugin(dir, { lang: { 'echo-as': 'as', 'echo-c': 'c', 'echo-rust': 'rust' }[from]!, ...quiet });
    await rm(join(dir, 'build'), { recursive: true, force: true });
    await writeFile(join(dir, file), edit(await readFile(join(dir, file), 'utf8')));
    try {
      await build(dir, quiet);
    } catch (err) {
      return err as { code: string; step: string; message: string };
    }
    return expect.unreachable('the build should fail');
  }

  it(
    'AssemblyScript without register(): says to call it',
    async () => {
      const err = await slip('echo-as', 'no-register', 'assembly/index.ts', (t) => t.replace(/^register\(.*$/m, ''));
      expect(err).toMatchObject({ code: 'PB_ERR_BUILD_FAILED', step: 'check' });
      expect(err.message).toContain('no register(…) call');
      expect(err.message).toContain('register(new MyPlugin());');
    },
    BUILD_TIMEOUT_MS,
  );

  it(
    'AssemblyScript without the abi/exports re-export: names the line to add',
    async () => {
      const err = await slip('echo-as', 'no-exports', 'assembly/index.ts', (t) => t.replace(/^export \* from .*$/m, ''));
      expect(err).toMatchObject({ code: 'PB_ERR_BUILD_FAILED', step: 'check' });
      expect(err.message).toContain('export * from "plugbroker/abi/exports";');
    },
    BUILD_TIMEOUT_MS,
  );

  it(
    'an asconfig.json extending a file that does not exist: names it and the options to set instead',
    async () => {
      const err = await slip('echo-as', 'bad-extends', 'asconfig.json', (t) =>
        JSON.stringify({ ...JSON.parse(t), options: undefined, extends: '../../asconfig.json' }),
      );
      expect(err).toMatchObject({ code: 'PB_ERR_BUILD_FAILED', step: 'asconfig' });
      expect(err.message).toContain('extends "../../asconfig.json", which does not exist');
      expect(err.message).toContain('"use": ["abort="]');
    },
    BUILD_TIMEOUT_MS,
  );

  it(
    'an asconfig.json without the abort option: explains the env.abort import',
    async () => {
      const err = await slip('echo-as', 'no-abort', 'asconfig.json', (t) => JSON.stringify({ ...JSON.parse(t), options: { runtime: 'incremental' } }));
      expect(err).toMatchObject({ code: 'PB_ERR_BUILD_FAILED', step: 'check' });
      expect(err.message).toContain('imports env.abort');
      expect(err.message).toContain('"use": ["abort="]');
    },
    BUILD_TIMEOUT_MS,
  );

  it(
    'C with a misspelled handler: names it, its line and the handler meant',
    async () => {
      const err = await slip('echo-c', 'typo-c', 'echo.c', (t) => t.replace('pb_on_message', 'pb_on_mesage'));
      expect(err).toMatchObject({ code: 'PB_ERR_BUILD_FAILED', step: 'check' });
      expect(err.message).toMatch(/echo\.c:\d+: pb_on_mesage is not a handler of the C SDK.*did you mean pb_on_message\?/);
    },
    BUILD_TIMEOUT_MS,
  );

  it(
    'C calling libc: says there is none',
    async () => {
      const err = await slip(
        'echo-c',
        'libc-c',
        'echo.c',
        (t) => `int printf(const char *, ...);\n${t.replace('pb_channel_send(', 'printf("x"); pb_channel_send(')}`,
      );
      expect(err).toMatchObject({ code: 'PB_ERR_BUILD_FAILED', step: 'compile' });
      expect(err.message.split('\n')[0]).toContain('undefined: printf. A plugin has no libc');
    },
    BUILD_TIMEOUT_MS,
  );

  it(
    'Rust without export_plugin!: says to add it',
    async () => {
      const err = await slip('echo-rust', 'no-export-rs', 'src/lib.rs', (t) => t.replace(/^export_plugin!.*$/m, '').replace('export_plugin, ', ''));
      expect(err).toMatchObject({ code: 'PB_ERR_BUILD_FAILED', step: 'check' });
      expect(err.message).toContain('export_plugin!(MyPlugin);');
    },
    BUILD_TIMEOUT_MS,
  );
});
