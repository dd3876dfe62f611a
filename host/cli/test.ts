/**
 * `broker test --plugin <x.wasm> <session.yaml>` runs a session script on the test kit (no socket,
 * no wall clock) and `broker test schema` prints the script's JSON Schema (docs/testkit.md). Exit 0
 * when every step matched; at the first mismatch the readable diff, then the `broker:` line, exit 1
 * (`PB_ERR_TEST_MISMATCH`); a script that does not parse is one `file:line` line, exit 2.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { readRecording, replayRecording } from '../record/replay.js';
import { runSession } from '../testkit/session-runner.js';
import { readSessionScript, sessionJsonSchema } from '../testkit/session-script.js';

/** Options of `broker test`. */
export interface TestOpts {
  /** `--plugin <x.wasm>`: the component under test. */
  readonly plugin?: string;
  /** The session script. */
  readonly script?: string;
  /** `--replay <file.jsonl>`: a `broker serve --record` file to replay instead of a script. */
  readonly replay?: string;
  /** `--plugin-config <text|@file>` for a replay (a recording does not hold it). */
  readonly pluginConfig?: string;
  /** Where the summary goes. */
  readonly print: (text: string) => void;
}

/** What `broker test --help` says after the flags. */
export const TEST_HELP = `Run a plugin on the test kit (no socket, no wall clock; docs/testkit.md).

  broker test --plugin build/login.wasm session.yaml   run a session script
  broker test --plugin build/new.wasm --replay s.jsonl replay a broker serve --record file
  broker test schema                                    print the session script's JSON Schema

Exit status: 0 when every step matched (the build sent what the recorded plugin sent); 1 at the
first mismatch (a diff, then the broker: line); 2 for a script or recording that does not parse
(file:line), a replay against a plugin of another world, or a usage error.`;

/**
 * `broker test`: runs the script against the plugin.
 * @throws {UsageError} without --plugin or a script.
 * @throws {TestInputError} for a script that does not parse (exit 2).
 * @throws {TestMismatchError} at the first step the plugin does not meet (exit 1).
 */
export async function testPlugin(opts: TestOpts): Promise<void> {
  if (opts.plugin === undefined) throw new UsageError('PB_ERR_USAGE_MISSING_FLAG', 'broker test needs --plugin <x.wasm>');
  if (opts.replay !== undefined) {
    if (opts.script !== undefined) throw new UsageError('PB_ERR_USAGE_EXTRA_ARGUMENT', 'broker test takes a session script or --replay <file.jsonl>, not both');
    const recording = await readRecording(opts.replay);
    const config = await readPluginConfig(opts.pluginConfig);
    const result = await replayRecording(recording, opts.plugin, { config });
    const cut =
      result.truncatedAtBytes === undefined ? '' : ` (the recording was truncated at ${result.truncatedAtBytes} bytes: only what it holds was compared)`;
    opts.print(`${opts.replay}: replayed ${result.events} events; the plugin sent the same (${result.comparedCalls} host calls compared)${cut}\n`);
    return;
  }
  if (opts.script === undefined) {
    throw new UsageError(
      'PB_ERR_USAGE_MISSING_ARGUMENT',
      'broker test needs a session script (broker test --plugin <x.wasm> <session.yaml>) or --replay <file.jsonl>',
    );
  }
  const script = await readSessionScript(opts.script);
  const result = await runSession(script, opts.plugin);
  opts.print(`${opts.script}: ${result.steps} step${result.steps === 1 ? '' : 's'} passed (${result.hostCalls} host calls, ${result.traps} traps)\n`);
}

/** `broker test schema`: the session script's JSON Schema, pretty-printed. */
export function testSchema(io: { readonly print: (text: string) => void }): void {
  io.print(JSON.stringify(sessionJsonSchema(), null, 2) + '\n');
}

/** `--plugin-config`: text, or `@path` read from a file (as `broker serve` reads it). */
async function readPluginConfig(value: string | undefined): Promise<string | undefined> {
  if (value === undefined || !value.startsWith('@')) return value;
  try {
    return await readFile(value.slice(1), 'utf8');
  } catch (cause) {
    throw new UsageError('PB_ERR_USAGE', `--plugin-config ${value}: cannot read the file (${(cause as Error).message})`);
  }
}
