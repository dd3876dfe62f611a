/**
 * `broker serve`: options → `Broker.start`, then stop cleanly on SIGINT/SIGTERM.
 */
import { readFile } from 'node:fs/promises';
import { createBroker, type Broker } from '../broker.js';
import type { BrokerOptions } from '../config.js';
import { resolveProcesses } from '../cluster/cluster-options.js';
import { isBrokerProcess, processClusterIdentity, runPrimary } from '../cluster/processes.js';
import { createLogger } from '../log.js';

/**
 * Options of `serve`, as the CLI parsed them: commander camel-cases each flag into the
 * `BrokerOptions` field of the same name (`--max-frame-bytes` → `maxFrameBytes`).
 */
export type ServeOpts = Omit<BrokerOptions, 'logger'> & {
  /** Plugin configuration text, or `@path` to read it from a file. */
  pluginConfig?: string;
};

/** Resolves `--plugin-config`: `@file` reads the file, anything else is the text itself. */
export async function readPluginConfig(value: string | undefined): Promise<string | undefined> {
  if (value === undefined || !value.startsWith('@')) return value;
  return readFile(value.slice(1), 'utf8');
}

/**
 * Creates (and validates) a broker for the CLI without starting it, so that the caller can install
 * its signal handlers before the listener exists.
 * @throws {InvalidOptionError}
 */
export async function createServeBroker(opts: ServeOpts): Promise<Broker> {
  // A broker process of --processes is its own cluster node (processes.ts).
  const identity = isBrokerProcess() ? processClusterIdentity(opts.nodeId) : {};
  return createBroker({ ...opts, ...identity, pluginConfig: await readPluginConfig(opts.pluginConfig) });
}

/** Whether `serve` runs as the primary of `--processes` (not inside one of its broker processes). */
export function needsPrimary(opts: ServeOpts): boolean {
  return opts.processes !== undefined && !isBrokerProcess();
}

/**
 * `serve --processes`: validates every option as a broker would (so a bad flag fails once, here,
 * with exit 2), then runs the primary until it drained its processes. Returns the exit code.
 * @throws {InvalidOptionError}
 */
export async function servePrimary(opts: ServeOpts): Promise<number> {
  const broker = await createServeBroker(opts);
  const processes = resolveProcesses(broker.options.processes);
  return runPrimary({ processes, log: createLogger({ level: broker.options.logLevel }).child({ role: 'primary' }) });
}

/** Starts a broker for the CLI. The caller decides when to stop it. */
export async function serve(opts: ServeOpts): Promise<Broker> {
  const broker = await createServeBroker(opts);
  await broker.start();
  return broker;
}
