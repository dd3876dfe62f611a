/**
 * The CLI error convention (issue #14), run in-process through `runCli`: every failure is one
 * line `broker: <message> [PB_ERR_…]` naming flags as typed, exit 2 for a usage error (commander's
 * own included), 1 for a runtime failure. None of these cases starts a broker: each fails before.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../host/cli/program.js';
import { OPTION_DEFS } from '../../host/config.js';

const EXISTING = 'package.json'; // exists; serve never gets as far as loading it in these cases

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env });
  return { status, stdout, stderr };
}

/** Expects exactly one `broker: … [code]` line and returns its message. */
function oneLine(stderr: string, code: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines, stderr).toHaveLength(1);
  const m = /^broker: (.*) \[(PB_ERR_[A-Z_]+)\]$/.exec(lines[0]);
  expect(m, lines[0]).not.toBeNull();
  expect(m![2]).toBe(code);
  return m![1];
}

describe('broker CLI errors', () => {
  it.each<[string, string[], string, string]>([
    ['no command', [], 'PB_ERR_USAGE_MISSING_COMMAND', 'missing command: serve, test, build, init or config (broker --help describes them)'],
    ['an unknown command', ['srve'], 'PB_ERR_USAGE_UNKNOWN_COMMAND', 'unknown command srve (did you mean serve?)'],
    ['an unknown flag', ['serve', '--prot', '1'], 'PB_ERR_USAGE_UNKNOWN_FLAG', 'unknown flag --prot (did you mean --port?)'],
    ['a flag without its value', ['serve', '--plugin', EXISTING, '--port'], 'PB_ERR_USAGE_MISSING_ARGUMENT', '--port needs a value <n>'],
    [
      'serve without --plugin',
      ['serve'],
      'PB_ERR_USAGE_MISSING_FLAG',
      'no plugin to serve: give --plugin <file.wasm> (or plugin: in the --config file, or PLUGBROKER_PLUGIN)',
    ],
    [
      'a value that is not a number',
      ['serve', '--plugin', EXISTING, '--port', 'ten'],
      'PB_ERR_INVALID_OPTION',
      '--port must be an integer from 0 to 65535, got "ten"',
    ],
    [
      'a number out of range',
      ['serve', '--plugin', EXISTING, '--max-frame-bytes', '-1'],
      'PB_ERR_INVALID_OPTION',
      '--max-frame-bytes must be an integer from 1 to 268435456, got -1',
    ],
    [
      'a value not among the choices',
      ['serve', '--plugin', EXISTING, '--isolation', 'thread'],
      'PB_ERR_INVALID_OPTION',
      '--isolation must be one of inline, worker, got "thread"',
    ],
    [
      'a plugin file that does not exist',
      ['serve', '--plugin', 'nope/x.wasm'],
      'PB_ERR_INVALID_OPTION',
      '--plugin must be a .wasm file that exists, got "nope/x.wasm"',
    ],
    [
      'an --upstream without name=',
      ['serve', '--plugin', EXISTING, '--upstream', '127.0.0.1:7001'],
      'PB_ERR_INVALID_OPTION',
      '--upstream must be name=host:port[,host:port…][/policy] (host:port with a port from 1 to 65535; policy round-robin, least-connections, consistent-hash), got "127.0.0.1:7001"',
    ],
    ['build without its folder', ['build'], 'PB_ERR_USAGE_MISSING_ARGUMENT', 'missing argument <plugin-dir>'],
    ['build with two folders', ['build', 'a', 'b'], 'PB_ERR_USAGE_EXTRA_ARGUMENT', "too many arguments for 'build'. Expected 1 argument but got 2."],
    ['config without its command', ['config'], 'PB_ERR_USAGE_MISSING_COMMAND', 'broker config needs a command: schema or check'],
    ['an unknown config command', ['config', 'chek'], 'PB_ERR_USAGE_UNKNOWN_COMMAND', 'unknown command config chek (did you mean check?)'],
    ['config check of a missing file', ['config', 'check', 'nope.yaml'], 'PB_ERR_CONFIG_FILE', 'nope.yaml: cannot read the config file: no such file'],
  ])('exits 2 with one coded line for %s', async (_, args, code, message) => {
    const r = await cli(args);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr, code)).toBe(message);
  });

  it('names an environment variable as written, and refuses one that is no option', async () => {
    const bad = await cli(['serve', '--plugin', EXISTING], { PLUGBROKER_MAX_FRAME_BYTES: 'lots' });
    expect(bad.status).toBe(2);
    expect(oneLine(bad.stderr, 'PB_ERR_INVALID_OPTION')).toBe('PLUGBROKER_MAX_FRAME_BYTES must be an integer from 1 to 268435456, got "lots"');
    const typo = await cli(['serve', '--plugin', EXISTING], { PLUGBROKER_PORTT: '1' });
    expect(typo.status).toBe(2);
    expect(oneLine(typo.stderr, 'PB_ERR_UNKNOWN_OPTION')).toBe('PLUGBROKER_PORTT is not an option variable (did you mean PLUGBROKER_PORT?)');
  });

  it('prints one line per error when several options are wrong', async () => {
    const r = await cli(['serve', '--plugin', EXISTING, '--port', '70000', '--log-level', 'loud']);
    expect(r.status).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      'broker: --port must be an integer from 0 to 65535, got 70000 [PB_ERR_INVALID_OPTION]',
      'broker: --log-level must be one of trace, debug, info, warn, error, fatal, silent, got "loud" [PB_ERR_INVALID_OPTION]',
    ]);
  });

  it('exits 1 for a runtime failure: a file that is no WebAssembly', async () => {
    const r = await cli(['serve', '--plugin', EXISTING, '--port', '0', '--log-level', 'silent']);
    expect(r.status).toBe(1);
    expect(oneLine(r.stderr, 'PB_ERR_PLUGIN_NOT_COMPONENT')).toContain('is not a WebAssembly file');
  });

  it('exits 1 when a folder holds no plugin, naming what it looked for', async () => {
    const r = await cli(['build', 'test']);
    expect(r.status).toBe(1);
    expect(oneLine(r.stderr, 'PB_ERR_BUILD_FAILED')).toBe('detect: test: no asconfig.json (AssemblyScript), Cargo.toml (Rust) or *.c file (C) found');
  });
});

describe('broker --help and --version', () => {
  it('prints the version from package.json', async () => {
    const r = await cli(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe((JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version);
  });

  it('lists every option in serve --help, marks --plugin required and explains file and environment', async () => {
    const r = await cli(['serve', '--help']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    for (const def of OPTION_DEFS) expect(r.stdout).toContain(def.flag);
    expect(r.stdout).toMatch(/--plugin <file\.wasm> +\(required\)/);
    expect(r.stdout).toContain('--config <file>');
    expect(r.stdout).toContain('PLUGBROKER_MAX_FRAME_BYTES');
    expect(r.stdout).toContain('Precedence: flags > environment > --config file > defaults');
  });

  it('names the three languages and the toolchain of each in build --help', async () => {
    const r = await cli(['build', '--help']);
    expect(r.status).toBe(0);
    for (const text of ['AssemblyScript', 'asconfig.json', 'asc', 'C ', 'clang', 'lld', 'Rust', 'Cargo.toml', 'rustc', 'libstd-rust-dev-wasm32']) {
      expect(r.stdout).toContain(text);
    }
    // The table is printed as written, one row per language, not re-wrapped at 80 columns (#14).
    expect(r.stdout).toMatch(/^ {2}AssemblyScript +asconfig\.json +asc, a dependency of plugbroker: nothing to install$/m);
    expect(r.stdout).toMatch(/^ {2}C +a \*\.c file +clang 14 \+ lld, no libc \(Debian: apt-get install -y clang lld\)$/m);
  });

  it('lists the commands in broker --help, each with the first paragraph of its description only', async () => {
    const r = await cli(['--help']);
    expect(r.status).toBe(0);
    for (const c of ['serve', 'build', 'init', 'config']) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    // The details belong to `broker <command> --help` (#14).
    expect(r.stdout).not.toContain('A frame is the body length');
    expect(r.stdout).not.toContain('The language comes from the folder');
    expect(r.stdout).not.toContain('Templates (--template)');
  });

  it('prints the JSON Schema with config schema', async () => {
    const r = await cli(['config', 'schema']);
    expect(r.status).toBe(0);
    const schema = JSON.parse(r.stdout) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toContain('max-frame-bytes');
  });
});
