/**
 * The CLI's configuration: flags > environment (`PLUGBROKER_*`) > config file > defaults, merged
 * key by key (a list or map given at a higher level replaces the lower one whole), then validated
 * by `validateOptions` with each value's source, so that every message names the flag, the
 * variable or the file line the value came from. Files the options name are checked here too
 * (the library leaves that to `start()`): a missing file is a usage error, before anything listens.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { BrokerError, ConfigFileError, InvalidOptionError, UsageError } from '../errors.js';
import { readEnvOptions } from './env.js';
import { readConfigFile, type ConfigFileOptions } from './file.js';
import { subject, validateOptions, type OptionSources } from './resolve.js';
import { OPTION_BY_KEY, type OptionKey, type ResolvedOptions } from './schema.js';

/** What `loadConfig` reads. */
export interface ConfigInputs {
  /** Options given as flags (already read from text: see text.ts). */
  readonly flags?: Partial<Record<OptionKey, unknown>>;
  /** The `--config` file, if any. */
  readonly configFile?: string;
  /** Default: `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

/** The outcome: options when there is no error. */
export interface LoadedConfig {
  readonly options: ResolvedOptions | undefined;
  readonly errors: readonly BrokerError[];
  /** Where each given option came from (absent: default). */
  readonly sources: OptionSources;
  /** The file's own values (before flags and environment), for the reload report. */
  readonly fileValues: Partial<Record<OptionKey, unknown>>;
}

/** Merges and validates the CLI's configuration; never throws for bad input (see `errors`). */
export async function loadConfig(inputs: ConfigInputs): Promise<LoadedConfig> {
  const errors: BrokerError[] = [];
  let file: ConfigFileOptions | undefined;
  if (inputs.configFile !== undefined) {
    try {
      file = await readConfigFile(inputs.configFile);
      errors.push(...file.errors);
    } catch (err) {
      if (!(err instanceof ConfigFileError)) throw err;
      return { options: undefined, errors: [err], sources: {}, fileValues: {} };
    }
  }
  const env = readEnvOptions(inputs.env ?? process.env);
  errors.push(...env.errors);
  const flags = inputs.flags ?? {};
  const flagSources: OptionSources = Object.fromEntries(Object.keys(flags).map((k) => [k, { kind: 'flag' }]));
  const values: Record<string, unknown> = { ...file?.values, ...env.values, ...flags };
  const sources: OptionSources = { ...file?.sources, ...env.sources, ...flagSources };

  if (values.plugin === undefined) {
    errors.push(
      new UsageError('PB_ERR_USAGE_MISSING_FLAG', 'no plugin to serve: give --plugin <file.wasm> (or plugin: in the --config file, or PLUGBROKER_PLUGIN)'),
    );
  }
  errors.push(...(await readFiles(values, sources)));
  const result = validateOptions(values.plugin === undefined ? { ...values, plugin: '-' } : values, sources);
  errors.push(...result.errors);
  return { options: errors.length > 0 ? undefined : result.options, errors, sources, fileValues: file?.values ?? {} };
}

/** Checks that `plugin` exists and replaces `pluginConfig: "@path"` by the file's text. */
async function readFiles(values: Record<string, unknown>, sources: OptionSources): Promise<BrokerError[]> {
  const errors: BrokerError[] = [];
  for (const plugin of Array.isArray(values.plugin) ? (values.plugin as unknown[]) : [values.plugin]) {
    if (typeof plugin === 'string' && plugin !== '' && !isFile(plugin)) {
      const def = OPTION_BY_KEY.get('plugin')!;
      errors.push(new InvalidOptionError('plugin', plugin, 'a .wasm file that exists', { subject: subject(def, sources.plugin ?? { kind: 'flag' }) }));
    }
  }
  const config = values.pluginConfig;
  if (typeof config === 'string' && config.startsWith('@')) {
    try {
      values.pluginConfig = await readFile(config.slice(1), 'utf8');
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a folder' : (cause as Error).message;
      const def = OPTION_BY_KEY.get('pluginConfig')!;
      errors.push(
        new InvalidOptionError('pluginConfig', config, `text, or @ and a readable file (${why})`, {
          subject: subject(def, sources.pluginConfig ?? { kind: 'flag' }),
        }),
      );
    }
  }
  return errors;
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}
