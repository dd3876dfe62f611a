/**
 * `broker serve`: options → `Broker.start`, then stop cleanly on SIGINT/SIGTERM.
 */
import { readFile } from 'node:fs/promises';
import { createBroker, type Broker } from '../broker.js';
import type { BrokerOptions } from '../config.js';

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
  return createBroker({ ...opts, pluginConfig: await readPluginConfig(opts.pluginConfig) });
}

/** Starts a broker for the CLI. The caller decides when to stop it. */
export async function serve(opts: ServeOpts): Promise<Broker> {
  const broker = await createServeBroker(opts);
  await broker.start();
  return broker;
}
