/**
 * The `broker` command: registers the commands and nothing else (jco's CLI shape). Each command is
 * an exported async function in its own file; `asyncAction` prints a failure as one line and sets
 * the exit code. This is the only file that ends the process.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { LOG_LEVELS, DEFAULTS, RATE_ACTIONS } from '../config.js';
import { FAILURE_POLICIES, ISOLATION_MODES } from '../config.js';
import { BrokerError } from '../errors.js';
import { build } from './build.js';
import { createServeBroker, type ServeOpts } from './serve.js';

function parseIntStrict(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(value);
}

function parsePositiveNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0)) throw new InvalidArgumentError('expected a positive number');
  return n;
}

/** Collects repeated `--upstream name=host:port,…[/policy]` into `{ name: text }` (config.ts parses the text). */
function collectUpstream(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('expected name=host:port[,host:port…][/policy]');
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** Collects a repeatable flag's values in order (`--listen a --listen b`). */
function collectList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
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
    'Accept TCP, TLS and WebSocket connections and hand every frame to a plugin.\n\n' +
      'A frame is the body length in ASCII decimal, a newline, then the body: try\n' +
      '`telnet 127.0.0.1 10241`, type 5, Enter, hello.',
  )
  .requiredOption('--plugin <file.wasm>', 'plugin component to run (build one with `broker build`)')
  .option('--host <address>', `address of the default tcp:// listener when no --listen is given (default: ${DEFAULTS.host})`)
  .option('--port <n>', `port of the default tcp:// listener when no --listen is given; 0 picks a free one (default: ${DEFAULTS.port})`, parseIntStrict)
  // --- listeners (issue #10) ---
  .option(
    '--listen <url>',
    'a listener, repeatable: tcp://host:port or tls://host:port (add ?framing=binary for 4-byte big-endian lengths), ws://host:port/path, wss://host:port/path; replaces --host/--port',
    collectList,
  )
  .option('--tls-cert <file.pem>', 'PEM certificate (chain) of the tls:// and wss:// listeners')
  .option('--tls-key <file.pem>', 'PEM private key of --tls-cert (unencrypted)')
  .option('--ws-compression', 'negotiate permessage-deflate on ws:// and wss:// listeners when the client offers it (costs memory per connection)')
  .option(
    '--ws-allowed-origins <a,b,…>',
    'browser Origins allowed on ws:// and wss:// (comma-separated, e.g. https://app.example.com); others get 403; default any',
  )
  .option(
    '--handshake-timeout-ms <ms>',
    'close a connection whose TLS handshake or WebSocket upgrade has not finished this long after it was accepted',
    parseIntStrict,
    DEFAULTS.handshakeTimeoutMs,
  )
  // ---
  .option(
    '--max-frame-bytes <n>',
    'largest frame body accepted or sent, in bytes; a peer that declares more is disconnected (protocol-error)',
    parseIntStrict,
    DEFAULTS.maxFrameBytes,
  )
  .option(
    '--max-outbound-bytes <n>',
    `bytes that may queue for one peer before channel-send returns false (default: ${DEFAULTS.maxOutboundBytes}, or twice --max-frame-bytes if larger)`,
    parseIntStrict,
  )
  .option('--plugin-config <text|@file>', "text passed to the plugin's start(config); @path reads a file", '')
  .addOption(
    new Option(
      '--isolation <mode>',
      'inline: the plugin runs on the I/O thread (fastest; only --plugin-call-fuel stops a runaway call); worker: in a worker thread, a call over --plugin-call-budget-ms is stopped',
    )
      .choices(ISOLATION_MODES)
      .default(DEFAULTS.isolation),
  )
  .option(
    '--plugin-call-budget-ms <ms>',
    `CPU budget of one plugin call; over it the worker is terminated and --on-plugin-failure applies (worker isolation only; default ${DEFAULTS.pluginCallBudgetMs}, start gets 10×)`,
    parseIntStrict,
  )
  .option(
    '--plugin-call-fuel <steps>',
    'fuel per plugin call: a counter compiled into the plugin stops a call after this many loop iterations and calls, also inline (0: no counter)',
    parseIntStrict,
  )
  .option(
    '--plugin-memory-max-mb <n>',
    "cap on the plugin's linear memory; memory.grow fails above it and the plugin traps",
    parseIntStrict,
    DEFAULTS.pluginMemoryMaxMb,
  )
  .addOption(
    new Option(
      '--on-plugin-failure <policy>',
      'after a trap or timeout: reload (fresh instance, channels kept), close (fresh instance, its channels closed), fail-closed (refuse everything until SIGHUP)',
    )
      .choices(FAILURE_POLICIES)
      .default(DEFAULTS.onPluginFailure),
  )
  .option('--ping-interval-ms <ms>', 'send a heartbeat (0\\n) after this much inbound silence; 0 disables', parseIntStrict, DEFAULTS.pingIntervalMs)
  .option(
    '--idle-timeout-ms <ms>',
    'close a connection that sent no frame, not even a heartbeat, for this long (heartbeat-timeout); 0 disables',
    parseIntStrict,
    DEFAULTS.idleTimeoutMs,
  )
  .option(
    '--auth-deadline-ms <ms>',
    'close connections the plugin has not authenticated (channel-authenticate) within this time (auth-timeout); 0 disables',
    parseIntStrict,
    DEFAULTS.authDeadlineMs,
  )
  .option(
    '--pre-auth-max-frames <n>',
    'with an auth deadline: frames an unauthenticated connection may hand the plugin before it is closed (auth-timeout)',
    parseIntStrict,
    DEFAULTS.preAuthMaxFrames,
  )
  .option(
    '--pre-auth-max-bytes <n>',
    'with an auth deadline: body bytes an unauthenticated connection may hand the plugin',
    parseIntStrict,
    DEFAULTS.preAuthMaxBytes,
  )
  .option('--rate-frames <n>', 'frames per second per connection (token bucket); 0 disables', parseIntStrict, DEFAULTS.rateFrames)
  .option('--rate-bytes <n>', 'body bytes per second per connection (token bucket); 0 disables', parseIntStrict, DEFAULTS.rateBytes)
  .option('--rate-burst <seconds>', 'rate bucket capacity, in seconds of the rate (how much a peer may burst)', parsePositiveNumber, DEFAULTS.rateBurst)
  .addOption(
    new Option('--rate-action <action>', 'over the rate: close the connection (rate-limited) or drop the frame and count it')
      .choices(RATE_ACTIONS)
      .default(DEFAULTS.rateAction),
  )
  .option('--max-connections <n>', 'open connections at most; further ones are closed at once; 0 = no cap', parseIntStrict, DEFAULTS.maxConnections)
  .option('--max-connections-per-ip <n>', 'open connections per client IP at most; 0 = no cap', parseIntStrict, DEFAULTS.maxConnectionsPerIp)
  .option('--accept-rate-per-ip <n>', 'new connections per second per client IP (bursts up to n); 0 = no cap', parseIntStrict, DEFAULTS.acceptRatePerIp)
  .option(
    '--drain-timeout-ms <ms>',
    'on SIGTERM/SIGINT: how long queued frames may take to reach their peers before every channel is closed',
    parseIntStrict,
    DEFAULTS.drainTimeoutMs,
  )
  .option(
    '--upstream <name=host:port,…[/policy]>',
    'an upstream service the plugin opens channels to by name (upstream-open); repeat for more services; policy: round-robin (default), least-connections or consistent-hash',
    collectUpstream,
  )
  .addOption(new Option('--log-level <level>', 'log verbosity').choices(LOG_LEVELS).default(DEFAULTS.logLevel))
  .addHelpText(
    'after',
    "\nHeartbeats: an empty frame (0\\n) is a heartbeat; the broker answers a client's heartbeat with one and\n" +
      'never hands heartbeats to the plugin. Over WebSocket one message is one frame, an empty message is the\n' +
      'heartbeat, the broker pings after --ping-interval-ms of silence, and a close code is 4000 + the close\n' +
      'reason (README, WebSocket close codes).\n' +
      'Logs are JSON lines on stdout (pretty when stdout is a terminal). SIGINT/SIGTERM drain: no new\n' +
      'connections, queued frames flushed (up to --drain-timeout-ms), handle-broken(shutdown) for every\n' +
      "channel, then the plugin's stop(), exit 0; a second signal exits at once.\n" +
      'SIGHUP reloads the --plugin file without dropping a connection (README, Isolation); a file that\n' +
      'does not load or start is refused and the running plugin keeps serving.',
  )
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
