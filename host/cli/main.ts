/**
 * The `broker` command: registers the commands and nothing else (jco's CLI shape). Each command is
 * an exported async function in its own file; `asyncAction` prints a failure as one line and sets
 * the exit code. This is the only file that ends the process.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { LOG_LEVELS, DEFAULTS } from '../config.js';
import { FAILURE_POLICIES, ISOLATION_MODES } from '../config.js';
import { BrokerError } from '../errors.js';
import { build } from './build.js';
import { createServeBroker, type ServeOpts } from './serve.js';

function parseIntStrict(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(value);
}

/** Runs a command; a failure prints `broker: <message>` (with its code) and exits non-zero. */
function asyncAction<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      const code = err instanceof BrokerError ? ` [${err.code}]` : '';
      process.stderr.write(`broker: ${err instanceof Error ? err.message : String(err)}${code}\n`);
      if (!(err instanceof BrokerError) && err instanceof Error && process.env.PLUGBROKER_DEBUG) process.stderr.write(`${err.stack}\n`);
      process.exitCode = err instanceof BrokerError && err.code === 'PB_ERR_INVALID_OPTION' ? 2 : 1;
    }
  };
}

const program = new Command('broker')
  .description('plugbroker: a message broker for long-lived connections whose logic lives in WebAssembly plugins')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)');

program
  .command('serve')
  .description(
    'Accept TCP connections and hand every frame to a plugin.\n\n' +
      'A frame is the body length in ASCII decimal, a newline, then the body: try\n' +
      '`telnet 127.0.0.1 10241`, type 5, Enter, hello.',
  )
  .requiredOption('--plugin <file.wasm>', 'plugin component to run (build one with `broker build`)')
  .option('--host <address>', 'address to bind', DEFAULTS.host)
  .option('--port <n>', 'TCP port to listen on (0 picks a free one)', parseIntStrict, DEFAULTS.port)
  .option('--max-frame-bytes <n>', 'largest frame body accepted or sent, in bytes; a peer that declares more is disconnected (protocol-error)', parseIntStrict, DEFAULTS.maxFrameBytes)
  .option('--max-outbound-bytes <n>', `bytes that may queue for one peer before channel-send returns false (default: ${DEFAULTS.maxOutboundBytes}, or twice --max-frame-bytes if larger)`, parseIntStrict)
  .option('--plugin-config <text|@file>', "text passed to the plugin's start(config); @path reads a file", '')
  .addOption(new Option('--isolation <mode>', 'inline: the plugin runs on the I/O thread (fastest, a call cannot be preempted); worker: in a worker thread, a call over --plugin-call-budget-ms is stopped').choices(ISOLATION_MODES).default(DEFAULTS.isolation))
  .option('--plugin-call-budget-ms <ms>', `CPU budget of one plugin call; over it the worker is terminated and --on-plugin-failure applies (worker isolation only; default ${DEFAULTS.pluginCallBudgetMs}, start gets 10×)`, parseIntStrict)
  .option('--plugin-memory-max-mb <n>', "cap on the plugin's linear memory; memory.grow fails above it and the plugin traps", parseIntStrict, DEFAULTS.pluginMemoryMaxMb)
  .addOption(new Option('--on-plugin-failure <policy>', 'after a trap or timeout: reload (fresh instance, channels kept), close (fresh instance, its channels closed), fail-closed (refuse everything until SIGHUP)').choices(FAILURE_POLICIES).default(DEFAULTS.onPluginFailure))
  .addOption(new Option('--log-level <level>', 'log verbosity').choices(LOG_LEVELS).default(DEFAULTS.logLevel))
  .addHelpText('after', '\nLogs are JSON lines on stdout (pretty when stdout is a terminal). SIGINT/SIGTERM stop cleanly:\nevery channel gets handle-broken(shutdown), then the plugin\'s stop(); a second signal exits at once.\n' +
      'SIGHUP reloads the --plugin file without dropping a connection (README, Isolation); a file that\n' +
      'does not load or start is refused and the running plugin keeps serving.')
  .action(
    asyncAction(async (opts: ServeOpts) => {
      const broker = await createServeBroker(opts);
      // Handlers go in before the listener exists: a signal during start-up still stops cleanly.
      const stopped = new Promise<void>((resolve) => {
        const onSignal = (signal: NodeJS.Signals): void => {
          process.removeListener('SIGINT', onSignal);
          process.removeListener('SIGTERM', onSignal);
          broker.log.info({ signal }, 'signal received: stopping (send it again to exit at once)');
          process.once('SIGINT', () => process.exit(130));
          process.once('SIGTERM', () => process.exit(143));
          broker.stop().then(resolve, resolve);
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
      // SIGHUP: hot swap. A refused file is logged by the broker and the running plugin keeps serving.
      process.on('SIGHUP', () => void broker.reloadPlugin().catch(() => {}));
      await broker.start();
      await stopped;
    }),
  );

program
  .command('build')
  .description('Compile a plugin folder (AssemblyScript: asconfig.json) into a component and validate it against the WIT world')
  .argument('<plugin-dir>', 'folder holding the plugin sources')
  .option('-o, --out <file.wasm>', 'output component (default <plugin-dir>/build/<folder name>.wasm)')
  .action(
    asyncAction(async (dir: string, opts: { out?: string }) => {
      await build(dir, { out: opts.out });
    }),
  );

await program.parseAsync(process.argv);
