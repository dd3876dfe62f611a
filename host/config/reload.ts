/**
 * What a reload (SIGHUP with a config file, or `Broker.reconfigure`) does with each changed
 * option, by its `reload` class in the schema: `live` options apply to the running broker, `swap`
 * options apply through the plugin hot swap, `restart` options keep their running value and are
 * reported as needing a restart. Pure: the broker applies the plan.
 */
import { isDeepStrictEqual } from 'node:util';
import { OPTION_DEFS, type OptionKey, type ResolvedOptions } from './schema.js';

/** The changed options of a reload, by what happens to them. */
export interface ReloadPlan {
  /** Applied to the running broker. */
  readonly live: readonly OptionKey[];
  /** Applied by the plugin hot swap that follows. */
  readonly swap: readonly OptionKey[];
  /** Changed, but kept at their running value until the broker restarts. */
  readonly restart: readonly OptionKey[];
  /** The options after the reload: new values for `live` and `swap`, running values for `restart`. */
  readonly next: ResolvedOptions;
}

/** Compares the running options with newly resolved ones. */
export function planReload(running: ResolvedOptions, wanted: ResolvedOptions): ReloadPlan {
  const live: OptionKey[] = [];
  const swap: OptionKey[] = [];
  const restart: OptionKey[] = [];
  const next: Record<string, unknown> = { ...running };
  for (const def of OPTION_DEFS) {
    const before = (running as Record<string, unknown>)[def.key];
    const after = (wanted as Record<string, unknown>)[def.key];
    if (isDeepStrictEqual(before, after)) continue;
    ({ live, swap, restart })[def.meta.reload].push(def.key);
    if (def.meta.reload === 'restart') continue;
    if (after === undefined) delete next[def.key];
    else next[def.key] = after;
  }
  return { live, swap, restart, next: Object.freeze(next) as unknown as ResolvedOptions };
}
