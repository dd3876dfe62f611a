/**
 * `broker test --plugin <x.wasm> <session.yaml>` (#13 §2): session scripts run on the test kit
 * against the real sample plugins; exit 0 when every step matched, a readable diff and exit 1 at
 * the first mismatch, one `file:line` line and exit 2 for a script that does not parse. In process
 * through `runCli` (the same code path as bin/broker.js), and once as a real process.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../host/cli/program.js';
import { sessionJsonSchema } from '../../host/testkit/session-script.js';
import { CHAT_PLUGINS, LOGIN_PLUGINS } from '../conformance/plugins.js';
import { BROKER_BIN, ROOT, fixture } from '../helpers/paths.js';

const SESSIONS = fileURLToPath(new URL('../fixtures/sessions/', import.meta.url));

async function broker(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: {} });
  return { code, stdout, stderr };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plugbroker-test-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a script into the temporary folder and returns its path. */
async function script(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe.each(LOGIN_PLUGINS)('broker test, login sample in $language', ({ path }) => {
  it('passes the login session (peer info, data, a trap, the fake clock, close) and exits 0', async () => {
    const r = await broker(['test', '--plugin', path, join(SESSIONS, 'login.yaml')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/login\.yaml: 13 steps passed \(\d+ host calls, 1 traps\)/);
  });
});

describe.each(CHAT_PLUGINS)('broker test, chat sample in $language', ({ path }) => {
  it('passes the chat session (groups, a timer, an upstream node) and exits 0', async () => {
    const r = await broker(['test', '--plugin', path, join(SESSIONS, 'chat.yaml')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('broker test: mismatches', () => {
  const LOGIN = LOGIN_PLUGINS[0].path;

  it('prints a diff of the frames at the first mismatch, then one broker: line with file:line, and exits 1', async () => {
    const file = await script(
      'wrong-frames.yaml',
      [
        'steps:',
        '  - connect: ada',
        '  - send: ada',
        '    frames: [login ada, one]',
        '  - expect: ada',
        '    frames: [welcome ada, "ada: two"]',
        '  - expect: ada',
        '    frames: []',
        '',
      ].join('\n'),
    );
    const r = await broker(['test', '--plugin', LOGIN, file]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.at(-1)).toBe(`broker: ${file}:5: step 3 (expect ada): the frames to ada differ (output above) [PB_ERR_TEST_MISMATCH]`);
    expect(lines.slice(0, -1)).toEqual(['  - expected (the script)', '  + actual (the plugin)', '  = "welcome ada"', '  - "ada: two"', '  + "ada: one"']);
  });

  it('shows binary frames as hex', async () => {
    const file = await script(
      'binary.yaml',
      ['steps:', '  - connect: c', '  - send: c', '    frame: { hex: "00ff" }', '  - expect: c', '    frames: [{ hex: "00fe" }]', ''].join('\n'),
    );
    const r = await broker(['test', '--plugin', fixture('probe'), file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('  - <hex 00fe>\n  + <hex 00ff>\n');
  });

  it('names the reason a channel ended with when the script expects another', async () => {
    const file = await script(
      'reason.yaml',
      ['steps:', '  - connect: c', '  - send: c', '    frame: hello', '  - expect-closed: c', '    reason: peer-closed', ''].join('\n'),
    );
    const r = await broker(['test', '--plugin', LOGIN, file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('  - peer-closed\n  + closed-by-plugin\n');
    expect(r.stderr).toContain(`${file}:5: step 3 (expect-closed c): c ended with another reason`);
  });

  it('fails a step the plugin makes impossible (sending to a channel it closed) with the reason', async () => {
    const file = await script('closed.yaml', ['steps:', '  - connect: c', '  - send: c', '    frames: [hello, again]', ''].join('\n'));
    const r = await broker(['test', '--plugin', LOGIN, file]);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(
      `broker: ${file}:3: step 2 (send c): cannot send to c: it has ended (closed-by-plugin) [PB_ERR_TEST_MISMATCH]`,
    );
  });

  it('expects a refused connect only with refused: true', async () => {
    const file = await script('refused.yaml', ['steps:', '  - connect: c', '    refused: true', ''].join('\n'));
    const r = await broker(['test', '--plugin', LOGIN, file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('handle-connect accepted the channel');
    const ok = await script(
      'refuse-ok.yaml',
      ['steps:', '  - connect: c', '    refused: true', '  - expect-closed: c', '    reason: refused-by-plugin', ''].join('\n'),
    );
    expect((await broker(['test', '--plugin', fixture('refuse-connect'), ok])).code).toBe(0);
  });
});

describe('broker test: scripts that do not parse', () => {
  it.each([
    ['a YAML error', 'steps:\n  - connect: a\n   - send: a\n', 3, 'All sequence items must start at the same column'],
    ['an unknown step, with the closest name', 'steps:\n  - connect: a\n  - sned: a\n', 3, 'steps[1].sned: is not a step (did you mean send?)'],
    ['a frame of the wrong type', 'steps:\n  - connect: a\n  - send: a\n    frame: [1]\n', 4, 'steps[1].frame: must be text, { base64: … } or { hex: … }'],
    ['an unknown key in a step', 'steps:\n  - connect: a\n    adress: 10.0.0.1\n', 2, 'steps[0]: unknown key adress'],
    ['a bad close reason', 'steps:\n  - connect: a\n  - close: a\n    reason: bored\n', 4, 'steps[1].reason:'],
    ['a negative advance', 'steps:\n  - advance: -5\n', 2, 'steps[0].advance:'],
    ['no steps', 'config: hi\n', 1, 'steps: must be a list of at least one step'],
    ['an unknown top-level key', 'confg: hi\nsteps:\n  - advance: 1\n', 1, 'unknown key confg'],
  ])('%s: one file:line line, exit 2', async (_what, text, line, message) => {
    const file = await script('bad.yaml', text);
    const r = await broker(['test', '--plugin', LOGIN_PLUGINS[0].path, file]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^broker: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${line}: .*\\[PB_ERR_TEST_SCRIPT_SYNTAX\\]\\n$`));
    expect(r.stderr).toContain(message);
  });

  it('a missing script file: one line, exit 2', async () => {
    const r = await broker(['test', '--plugin', LOGIN_PLUGINS[0].path, join(dir, 'nope.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no such file [PB_ERR_TEST_SCRIPT_SYNTAX]');
  });

  it('without --plugin: a usage error, exit 2', async () => {
    const r = await broker(['test', join(SESSIONS, 'login.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('broker: broker test needs --plugin <x.wasm> [PB_ERR_USAGE_MISSING_FLAG]\n');
  });
});

describe('broker test schema', () => {
  it('prints the JSON Schema of session scripts, the same as docs/session-script.schema.json', async () => {
    const r = await broker(['test', 'schema']);
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(printed).toEqual(sessionJsonSchema());
    expect(JSON.parse(await readFile(join(ROOT, 'docs/session-script.schema.json'), 'utf8'))).toEqual(printed);
    expect(Object.keys((printed.properties as Record<string, unknown>) ?? {})).toContain('steps');
  });
});

describe('broker test (process)', () => {
  it('exits 1 on a mismatch and 0 on a pass as a real process', async () => {
    const run = async (file: string): Promise<number | null> => {
      const proc = spawn(process.execPath, [BROKER_BIN, 'test', '--plugin', LOGIN_PLUGINS[1].path, file], { cwd: ROOT, stdio: 'ignore' });
      const [code] = await once(proc, 'exit');
      return code as number | null;
    };
    expect(await run(join(SESSIONS, 'login.yaml'))).toBe(0);
    const bad = await script('process-bad.yaml', 'steps:\n  - connect: a\n  - expect: a\n    frames: [nothing]\n');
    expect(await run(bad)).toBe(1);
  });
});
