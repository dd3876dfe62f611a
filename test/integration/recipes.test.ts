/**
 * The five-minute recipes are true (issue #14 item 2): the shell block of each language's recipe —
 * README (AssemblyScript), plugin-sdk-as/README.md (the same), docs/plugins.md (C, Rust) — runs as
 * written in an empty folder (`broker` being this checkout's CLI), and the plugin it builds answers
 * as the recipe says: a `hi` greeting, then the frame in upper case. Each SDK README's test-kit
 * example (a `node:test` file and a session script) runs as written against the plugin it is about.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker } from '../helpers/broker.js';
import { connectClient } from '../helpers/client.js';
import { BROKER_BIN, ROOT } from '../helpers/paths.js';

const run = promisify(execFile);
/** A build compiles: seconds on a quiet machine, much more on this loaded one. */
const BUILD_TIMEOUT_MS = 180_000;

/** The recipe's commands: from `broker init shout --lang <lang>` to `broker build shout`, in its sh blocks. */
export function recipe(doc: string, lang: string): string {
  const blocks = [...readFileSync(join(ROOT, doc), 'utf8').matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  const block = blocks.find((b) => b.includes(`broker init shout --lang ${lang} `));
  if (block === undefined) throw new Error(`${doc} has no recipe for --lang ${lang}`);
  const from = block.indexOf(`broker init shout --lang ${lang}`);
  const to = block.indexOf('broker build shout', from);
  return block.slice(from, block.indexOf('\n', to) + 1);
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'plugbroker-recipe-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('five-minute recipes', () => {
  it.each([
    ['README.md', 'as'],
    ['docs/plugins.md', 'c'],
    ['docs/plugins.md', 'rust'],
  ])(
    '%s --lang %s runs as written and its plugin answers as described',
    async (doc, lang) => {
      const dir = join(work, lang);
      await run('mkdir', [dir]);
      await writeFile(join(dir, 'recipe.sh'), `broker() { "${process.execPath}" "${BROKER_BIN}" "$@"; }\nset -e\n${recipe(doc, lang)}`);
      await run('sh', ['recipe.sh'], { cwd: dir, maxBuffer: 16 << 20 });
      const tb = await startBroker({ plugin: join(dir, 'shout', 'build', 'shout.wasm') });
      try {
        const c = await connectClient(tb.port);
        expect((await c.readFrame()).toString()).toBe('hi');
        c.send('hello');
        expect((await c.readFrame()).toString()).toBe('HELLO');
        c.close();
      } finally {
        await tb.stop();
      }
    },
    BUILD_TIMEOUT_MS,
  );

  it.each([
    ['plugin-sdk-as/README.md', 'as'],
    ['plugin-sdk-c/README.md', 'c'],
    ['plugin-sdk-rust/README.md', 'rust'],
  ])(
    "%s's test-kit example and session script run as written and pass",
    async (doc, lang) => {
      const text = readFileSync(join(ROOT, doc), 'utf8');
      const section = text.slice(text.indexOf('## Test it without a socket'));
      const js = /^```js\n([\s\S]*?)^```$/m.exec(section)![1];
      const yaml = /^```yaml\n([\s\S]*?)^```$/m.exec(section)![1];
      const command = /`broker test --plugin (\S+) (\S+)`/.exec(section)!;
      const dir = join(work, `kit-${lang}`);
      await run('mkdir', [dir]);
      // The AssemblyScript example is about the recipe's `shout`; the C and Rust ones about init's echo.
      const build = lang === 'as' ? recipe(doc, 'as') : `broker init shout --lang ${lang}\nbroker build shout\n`;
      await writeFile(join(dir, 'build.sh'), `broker() { "${process.execPath}" "${BROKER_BIN}" "$@"; }\nset -e\n${build}`);
      await run('sh', ['build.sh'], { cwd: dir, maxBuffer: 16 << 20 });
      // `plugbroker/testkit` is this checkout's build (an installed package resolves the same export).
      await writeFile(join(dir, 'shout.test.mjs'), js.replace("'plugbroker/testkit'", `'${join(ROOT, 'dist/host/testkit/index.js')}'`));
      const t = await run(process.execPath, ['--test', 'shout.test.mjs'], { cwd: dir });
      expect(t.stdout).toMatch(/^# pass 1$/m);
      expect(t.stdout).toMatch(/^# fail 0$/m);
      await writeFile(join(dir, command[2]), yaml);
      const b = await run(process.execPath, [BROKER_BIN, 'test', '--plugin', command[1], command[2]], { cwd: dir });
      expect(b.stdout).toMatch(/steps passed/);
    },
    BUILD_TIMEOUT_MS,
  );

  it('has the same AssemblyScript recipe in the README and the SDK README', () => {
    expect(recipe('plugin-sdk-as/README.md', 'as')).toBe(recipe('README.md', 'as'));
  });
});
