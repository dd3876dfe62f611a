/**
 * `broker test --plugin <x.wasm> <session.yaml>` runs a session script on the test kit (no socket,
 * no wall clock) and `broker test schema` prints the script's JSON Schema (docs/testkit.md). Exit 0
 * when every step matched; at the first mismatch the readable diff, then the `broker:` line, exit 1
 * (`PB_ERR_TEST_MISMATCH`); a script that does not parse is one `file:line` line, exit 2.
 */
import { UsageError } from '../errors.js';
import { runSession } from '../testkit/session-runner.js';
import { readSessionScript, sessionJsonSchema } from '../testkit/session-script.js';

/** Options of `broker test`. */
export interface TestOpts {
  /** `--plugin <x.wasm>`: the component under test. */
  readonly plugin?: string;
  /** The session script. */
  readonly script?: string;
  /** Where the summary goes. */
  readonly print: (text: string) => void;
}

/** What `broker test --help` says after the flags. */
export const TEST_HELP = `Run a plugin on the test kit (no socket, no wall clock; docs/testkit.md).

  broker test --plugin build/login.wasm session.yaml   run a session script
  broker test schema                                    print the session script's JSON Schema

Exit status: 0 when every step matched; 1 at the first mismatch (a diff, then the broker: line);
2 for a script that does not parse (file:line) or a usage error.`;

/**
 * `broker test`: runs the script against the plugin.
 * @throws {UsageError} without --plugin or a script.
 * @throws {TestInputError} for a script that does not parse (exit 2).
 * @throws {TestMismatchError} at the first step the plugin does not meet (exit 1).
 */
export async function testPlugin(opts: TestOpts): Promise<void> {
  if (opts.plugin === undefined) throw new UsageError('PB_ERR_USAGE_MISSING_FLAG', 'broker test needs --plugin <x.wasm>');
  if (opts.script === undefined)
    throw new UsageError('PB_ERR_USAGE_MISSING_ARGUMENT', 'broker test needs a session script (broker test --plugin <x.wasm> <session.yaml>)');
  const script = await readSessionScript(opts.script);
  const result = await runSession(script, opts.plugin);
  opts.print(`${opts.script}: ${result.steps} step${result.steps === 1 ? '' : 's'} passed (${result.hostCalls} host calls, ${result.traps} traps)\n`);
}

/** `broker test schema`: the session script's JSON Schema, pretty-printed. */
export function testSchema(io: { readonly print: (text: string) => void }): void {
  io.print(JSON.stringify(sessionJsonSchema(), null, 2) + '\n');
}
