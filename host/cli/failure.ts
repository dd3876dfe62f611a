/**
 * How `broker` reports a failure (issue #14): one line `broker: <message> [PB_ERR_…]` per error,
 * naming flags as the user typed them, and the exit status: 2 for a usage error (any code in
 * `USAGE_ERROR_CODES`, commander's own errors included), 1 for a runtime failure. A message with
 * several lines (a compiler's diagnostics) prints its detail first, so the last line of stderr is
 * always the `broker:` line.
 */
import { CommanderError } from 'commander';
import { BrokerError, OptionErrors, USAGE_ERROR_CODES, UsageError } from '../errors.js';

/** Exit status of a usage error. */
export const EXIT_USAGE = 2;
/** Exit status of a runtime failure. */
export const EXIT_FAILURE = 1;

/** Prints `err` to `write` as the CLI convention says; returns the exit status. */
export function reportFailure(err: unknown, write: (text: string) => void, env: NodeJS.ProcessEnv = process.env): number {
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) return 0; // --help, --version
    err = usageErrorOf(err);
  }
  const errors = err instanceof OptionErrors ? err.errors : [err];
  let status = EXIT_USAGE;
  for (const e of errors) {
    const message = e instanceof Error ? e.message : String(e);
    const [first, ...detail] = message.split('\n');
    if (detail.length > 0) write(detail.join('\n').trimEnd() + '\n');
    const summary = detail.length > 0 ? `${first.replace(/:\s*$/, '')} (output above)` : first;
    write(`broker: ${summary}${e instanceof BrokerError ? ` [${e.code}]` : ''}\n`);
    if (!(e instanceof BrokerError) && e instanceof Error && env.PLUGBROKER_DEBUG) write(`${e.stack}\n`);
    if (!(e instanceof BrokerError && USAGE_ERROR_CODES.has(e.code))) status = EXIT_FAILURE;
  }
  return status;
}

/** commander's error → our usage error, with its text reworded to the house style. */
export function usageErrorOf(err: CommanderError): UsageError {
  // commander writes "error: unknown option '--prot'\n(Did you mean --port?)".
  const text = err.message
    .replace(/^error: /, '')
    .replace(/\n\(Did you mean (.*)\?\)$/, ' (did you mean $1?)')
    .replace(/\n/g, ' ');
  switch (err.code) {
    case 'commander.unknownOption':
      return new UsageError('PB_ERR_USAGE_UNKNOWN_FLAG', text.replace(/^unknown option '([^']*)'/, 'unknown flag $1'));
    case 'commander.unknownCommand':
      return new UsageError('PB_ERR_USAGE_UNKNOWN_COMMAND', text.replace(/^unknown command '([^']*)'/, 'unknown command $1'));
    case 'commander.optionMissingArgument':
      return new UsageError('PB_ERR_USAGE_MISSING_ARGUMENT', text.replace(/^option '(\S+) ([^']*)' argument missing$/, '$1 needs a value $2'));
    case 'commander.missingArgument':
      return new UsageError('PB_ERR_USAGE_MISSING_ARGUMENT', text.replace(/^missing required argument '([^']*)'$/, 'missing argument <$1>'));
    case 'commander.missingMandatoryOptionValue':
      return new UsageError('PB_ERR_USAGE_MISSING_FLAG', text.replace(/^required option '([^']*)' not specified$/, 'missing required flag $1'));
    case 'commander.excessArguments':
      return new UsageError('PB_ERR_USAGE_EXTRA_ARGUMENT', text);
    case 'commander.help':
      // `broker` alone: commander shows the help as an error.
      return new UsageError('PB_ERR_USAGE_MISSING_COMMAND', 'missing command: serve, test, build, init or config (broker --help describes them)');
    default:
      return new UsageError('PB_ERR_USAGE', text);
  }
}
