/**
 * Options from the environment: `PLUGBROKER_<FLAG>` with dashes as underscores, upper case
 * (`--max-frame-bytes` → `PLUGBROKER_MAX_FRAME_BYTES`). They sit between the config file and the
 * flags. A `PLUGBROKER_*` variable that is no option is an error (a typo must not be ignored),
 * except the few listed in `NON_OPTION_VARIABLES`; an empty variable counts as unset.
 */
import { BrokerError, UnknownOptionError } from '../errors.js';
import type { OptionSources } from './resolve.js';
import { ENV_PREFIX, OPTION_DEFS, type OptionKey } from './schema.js';
import { closestName } from './suggest.js';
import { parseEnvText } from './text.js';

/** `PLUGBROKER_*` variables that are not options. */
export const NON_OPTION_VARIABLES: ReadonlyMap<string, string> = new Map([
  ['PLUGBROKER_CONFIG', 'the config file, when --config is not given'],
  ['PLUGBROKER_DEBUG', 'print the stack of an unexpected error'],
  // Set by `broker serve --processes` for the processes it starts (host/cluster/processes.ts).
  ['PLUGBROKER_PROCESS_INDEX', 'set by --processes: index of this broker process'],
  ['PLUGBROKER_REPLACES_NODE', 'set by --processes: node id of the process this one replaces'],
]);

/** Options read from the environment, with their sources and the errors found. */
export interface EnvOptions {
  readonly values: Partial<Record<OptionKey, unknown>>;
  readonly sources: OptionSources;
  readonly errors: readonly BrokerError[];
}

/** Reads every `PLUGBROKER_*` option variable of `env`. */
export function readEnvOptions(env: NodeJS.ProcessEnv = process.env): EnvOptions {
  const values: Partial<Record<OptionKey, unknown>> = {};
  const sources: OptionSources = {};
  const errors: BrokerError[] = [];
  const known = OPTION_DEFS.map((d) => d.envVar);
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || NON_OPTION_VARIABLES.has(name) || text === undefined || text === '') continue;
    const def = OPTION_DEFS.find((d) => d.envVar === name);
    if (def === undefined) {
      errors.push(new UnknownOptionError(name, `${name} is not an option variable`, closestName(name, [...known, ...NON_OPTION_VARIABLES.keys()])));
      continue;
    }
    try {
      values[def.key] = parseEnvText(def, text);
      sources[def.key] = { kind: 'env' };
    } catch (err) {
      errors.push(err as BrokerError);
    }
  }
  return { values, sources, errors };
}
