/**
 * `broker serve`: flags, environment and config file → `resolveOptions` → `Broker.start`; stops
 * cleanly on SIGINT/SIGTERM; SIGHUP re-reads the config file (the reloadable options apply, the
 * others are logged as needing a restart) and hot-swaps the plugin.
 */
import { isDeepStrictEqual } from 'node:util';
import { createBroker, type Broker } from '../broker.js';
import { OPTION_BY_KEY, type OptionKey } from '../config.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { throwAll } from '../config/resolve.js';
import { isBrokerProcess, runPrimary, serveAsProcess } from '../cluster/processes.js';
import { ProcessExitedError } from '../errors.js';
import { createLogger } from '../log.js';

/** Options of `serve`, as the CLI parsed them. */
export interface ServeOpts {
  /** Options typed as flags, by option key (`maxFrameBytes`), already read from text. */
  readonly flags: Partial<Record<OptionKey, unknown>>;
  /** `--config <file>` (YAML or JSON). */
  readonly config?: string;
  /** Where `PLUGBROKER_*` variables are read. Default: `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

/** A broker made by the CLI, not started yet, and how to apply a SIGHUP to it. */
export interface ServeBroker {
  readonly broker: Broker;
  /** Re-reads the config file (when there is one) and applies it, then hot-swaps the plugin. Never throws. */
  hangup(): Promise<void>;
}

/**
 * Resolves the configuration and creates (validating, opening nothing) the broker, so that the
 * caller can install its signal handlers before the listener exists.
 * @throws {OptionErrors | InvalidOptionError | UnknownOptionError | ConfigFileError | UsageError} for bad input.
 */
export async function createServeBroker(opts: ServeOpts): Promise<ServeBroker> {
  const inputs = { flags: opts.flags, configFile: opts.config, env: opts.env };
  const loaded = await loadConfig(inputs);
  if (loaded.errors.length > 0) throwAll(loaded.errors);
  const broker = createBroker(loaded.options!);
  let fileValues = loaded.fileValues;
  return {
    broker,
    async hangup(): Promise<void> {
      if (opts.config !== undefined) {
        const next = await loadConfig(inputs);
        if (next.errors.length === 0) {
          applyReload(broker, next, fileValues);
          fileValues = next.fileValues;
        } else {
          for (const err of next.errors) broker.log.error({ code: (err as { code?: string }).code }, `config reload refused, nothing changed: ${err.message}`);
        }
      }
      // A refused plugin is logged by the broker and the running one keeps serving.
      await broker.reloadPlugin().catch(() => {});
    },
  };
}

/** Applies a re-read configuration and logs what changed, what needs a restart and what a flag overrides. */
function applyReload(broker: Broker, next: LoadedConfig, previousFileValues: Partial<Record<OptionKey, unknown>>): void {
  const fileKey = (k: OptionKey): string => OPTION_BY_KEY.get(k)!.fileKey;
  const plan = broker.reconfigure(next.options!);
  broker.log.info({ applied: plan.live.map(fileKey), withPluginSwap: plan.swap.map(fileKey) }, 'config reloaded');
  if (plan.restart.length > 0) {
    broker.log.warn({ keys: plan.restart.map(fileKey) }, 'config keys changed that take effect only after a restart; they keep their running values');
  }
  const overridden = [...OPTION_BY_KEY.keys()].filter(
    (k) => !isDeepStrictEqual(previousFileValues[k], next.fileValues[k]) && next.sources[k] !== undefined && next.sources[k]!.kind !== 'file',
  );
  if (overridden.length > 0) {
    broker.log.warn(
      { keys: overridden.map((k) => `${fileKey(k)} (set by ${next.sources[k]!.kind === 'flag' ? OPTION_BY_KEY.get(k)!.flag : OPTION_BY_KEY.get(k)!.envVar})`) },
      'config keys changed in the file are overridden by a flag or the environment',
    );
  }
}

/**
 * Runs `broker serve` until SIGINT/SIGTERM: the first signal drains and stops (exit 0), a second
 * one exits at once. SIGHUP: see `ServeBroker.hangup`. With `--processes` this process is the
 * primary (host/cluster/processes.ts): it forks the broker processes, which run this same command.
 * @throws {ProcessExitedError} (primary) when the first broker process exited before listening;
 *   its own error line is above.
 */
export async function serve(opts: ServeOpts): Promise<void> {
  const { broker, hangup } = await createServeBroker(opts);
  const processes = broker.options.processes;
  if (processes !== undefined && !isBrokerProcess()) {
    const log = broker.options.logger ?? createLogger({ level: broker.options.logLevel });
    const code = await runPrimary({ processes, log: log.child({ role: 'primary' }) });
    if (code !== 0) throw new ProcessExitedError(0, code, null, 'before listening; its error is above');
    return;
  }
  // A broker process of --processes ignores SIGINT: Ctrl-C reaches the whole group and the primary decides.
  const signals: NodeJS.Signals[] = isBrokerProcess() ? ['SIGTERM'] : ['SIGINT', 'SIGTERM'];
  // Handlers go in before the listener exists: a signal during start-up still stops cleanly.
  let onSignal: (signal: string) => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    onSignal = (signal: string): void => {
      for (const s of signals) process.removeListener(s, onSignal);
      onSignal = () => {};
      broker.log.info({ signal }, 'signal received: stopping (send it again to exit at once)');
      // The second signal must not wait for anything: it is the user's way out of a stuck drain.
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      broker.stop().then(resolve, resolve);
    };
    for (const s of signals) process.on(s, onSignal);
  });
  // Reloads run one after the other (the broker queues plugin swaps the same way).
  let reloading: Promise<void> = Promise.resolve();
  const onHangup = (): void => void (reloading = reloading.then(hangup));
  process.on('SIGHUP', onHangup);
  try {
    await broker.start();
    // Under a primary: report the listener, drain when the primary asks (or is gone).
    if (isBrokerProcess()) serveAsProcess(broker, () => onSignal('drain requested by the primary'));
    // A drain through the admin API (POST /api/v1/drain) stops the broker too: then exit as after a signal.
    await Promise.race([stopped, broker.whenStopped()]);
  } finally {
    for (const s of signals) process.removeListener(s, onSignal);
    process.removeListener('SIGHUP', onHangup);
    // The channel to the primary would keep a broker process alive.
    if (isBrokerProcess()) process.disconnect?.();
  }
}
