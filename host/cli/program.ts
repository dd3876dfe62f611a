/**
 * The `broker` command line: registers the commands and nothing else (jco's CLI shape). Each
 * command is an exported async function in its own file, callable from tests; `runCli` parses the
 * arguments, runs the command, prints any failure the one way (failure.ts) and returns the exit
 * status. main.ts is the only place that sets it on the process.
 */
import { Command, Help } from 'commander';
import { build, BUILD_HELP } from './build.js';
import { initPlugin, INIT_HELP } from './init.js';
import { configCheck, configSchema } from './config.js';
import { reportFailure } from './failure.js';
import { addOptionFlags, flagValues } from './serve-flags.js';
import { serve } from './serve.js';
import { testPlugin, testSchema, TEST_HELP } from './test.js';
import { packageVersion } from './version.js';
import { ENV_PREFIX, OPTION_DEFS } from '../config.js';
import { closestName } from '../config/suggest.js';
import { UsageError } from '../errors.js';

/** Where the CLI reads and writes (the process's streams, or a test's buffers). */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

const SERVE_AFTER_HELP = `
Configuration: every flag is also a config-file key without its dashes (max-frame-bytes: 1048576)
and an environment variable ${ENV_PREFIX}<FLAG> with underscores (${ENV_PREFIX}MAX_FRAME_BYTES=1048576).
Precedence: flags > environment > --config file > defaults. \`broker config schema\` prints the file's
JSON Schema, \`broker config check <file>\` validates a file (docs/configuration.md).

Heartbeats: an empty frame (0\\n) is a heartbeat; the broker answers a client's heartbeat with one and
never hands heartbeats to the plugin. Over WebSocket one message is one frame, an empty message is the
heartbeat, the broker pings after --ping-interval-ms of silence, and a close code is 4000 + the close
reason (README, WebSocket close codes).
Logs are JSON lines on stdout (pretty when stdout is a terminal). SIGINT/SIGTERM drain: no new
connections, queued frames flushed (up to --drain-timeout-ms), handle-broken(shutdown) for every
channel, then the plugin's stop(), exit 0; a second signal exits at once.
SIGHUP re-reads the --config file and applies ${OPTION_DEFS.filter((d) => d.meta.reload !== 'restart')
  .map((d) => d.fileKey)
  .join(', ')}
(other changed keys are logged as needing a restart), then reloads the plugin without dropping a
connection (README, Isolation); a plugin that does not load or start is refused and the running one
keeps serving.
Exit status: 0 after a drain, 2 for a usage error (a bad flag, variable or config key), 1 for a
runtime failure; every failure is one line: broker: <message> [PB_ERR_…].`;

/** The commander program of `broker`, writing through `io`. */
export function createProgram(io: CliIo): Command {
  const program = new Command('broker')
    .description('plugbroker: a message broker for long-lived connections whose logic lives in WebAssembly plugins')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    // Every failure goes through reportFailure: commander throws instead of printing and exiting.
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: () => {}, outputError: () => {} })
    // Inherited by every command: a description holding a table (indented lines, build --help) is
    // printed as written instead of re-wrapped at 80 columns, and `broker --help` lists only the first
    // paragraph of each command's description.
    .configureHelp({
      boxWrap(str: string, width: number): string {
        return Help.prototype.preformatted(str) ? str : Help.prototype.boxWrap.call(this as Help, str, width);
      },
      subcommandDescription: (cmd: Command): string => cmd.summary() || cmd.description().split('\n\n')[0],
    });

  addOptionFlags(
    program
      .command('serve')
      .description(
        'Accept TCP, TLS and WebSocket connections (--listen) and hand every frame to a plugin.\n\n' +
          'A frame is the body length in ASCII decimal, a newline, then the body: try\n' +
          '`telnet 127.0.0.1 10241`, type 5, Enter, hello.',
      )
      .option('--config <file>', `config file (YAML or JSON; env ${ENV_PREFIX}CONFIG): keys are these flags without dashes`),
  )
    .addHelpText('after', SERVE_AFTER_HELP)
    .action(async (opts: Record<string, unknown>) => {
      await serve({ flags: flagValues(opts), config: (opts.config as string | undefined) ?? io.env[`${ENV_PREFIX}CONFIG`], env: io.env });
    });

  program
    .command('build')
    .description(BUILD_HELP)
    .argument('<plugin-dir>', 'folder holding the plugin sources')
    .option('-o, --out <file.wasm>', 'output component (default <plugin-dir>/build/<folder name>.wasm)')
    .action(async (dir: string, opts: { out?: string }) => {
      await build(dir, { out: opts.out, print: (line) => io.stdout(line + '\n') });
    });

  program
    .command('init')
    .description(INIT_HELP)
    .argument('<dir>', 'folder to create (new, or empty)')
    .requiredOption('--lang <language>', '(required) as (AssemblyScript), c or rust')
    .option('--template <name>', 'echo: every frame back; chat: rooms, a timer, an upstream (default: echo)')
    .action(async (dir: string, opts: { lang: string; template?: string }) => {
      await initPlugin(dir, { lang: opts.lang, template: opts.template, print: (line) => io.stdout(line + '\n') });
    });

  const config = program
    .command('config')
    .description('The config file of broker serve --config: its JSON Schema, and a checker')
    // Without a subcommand commander would print help as an error; say which commands there are instead.
    .argument('[command]', 'schema or check')
    .action((name: string | undefined) => {
      if (name === undefined) throw new UsageError('PB_ERR_USAGE_MISSING_COMMAND', 'broker config needs a command: schema or check');
      const near = closestName(name, ['schema', 'check']);
      throw new UsageError('PB_ERR_USAGE_UNKNOWN_COMMAND', `unknown command config ${name}${near === undefined ? '' : ` (did you mean ${near}?)`}`);
    });
  config
    .command('schema')
    .description('Print the JSON Schema of the config file (for editor completion and CI checks)')
    .action(() => configSchema({ print: io.stdout }));
  config
    .command('check')
    .description('Validate a config file as broker serve --config would; print the resolved options (secrets masked) or every error')
    .argument('<file>', 'the config file (YAML or JSON)')
    .action(async (file: string) => configCheck(file, { print: io.stdout, env: io.env }));

  const test = program
    .command('test')
    .description(TEST_HELP)
    .argument('[session.yaml]', 'the session script (YAML or JSON; broker test schema prints its JSON Schema)')
    .option('--plugin <x.wasm>', '(required) the plugin component under test')
    .option('--replay <file.jsonl>', 'replay a broker serve --record file and compare what the plugin sends with what the recorded one sent')
    .option('--plugin-config <text|@file>', 'start(config) text for --replay (a recording does not hold it); @path reads a file')
    .action(async (script: string | undefined, opts: { plugin?: string; replay?: string; pluginConfig?: string }) => {
      await testPlugin({ plugin: opts.plugin, script, replay: opts.replay, pluginConfig: opts.pluginConfig, print: io.stdout });
    });
  test
    .command('schema')
    .description('Print the JSON Schema of session scripts (for editor completion and CI checks)')
    .action(() => testSchema({ print: io.stdout }));

  return program;
}

/**
 * Runs `broker <args>` (arguments after the program name) and returns the exit status: 0, 2 for a
 * usage error, 1 for a runtime failure.
 */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  try {
    await createProgram(io).parseAsync([...args], { from: 'user' });
    return 0;
  } catch (err) {
    return reportFailure(err, io.stderr, io.env);
  }
}
