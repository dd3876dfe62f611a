/**
 * The `broker serve` flags, generated from the option schema (host/config/schema.ts), so that a
 * flag, its help line, its default and its parsing cannot drift from the option. Commander only
 * splits the command line: each value is read from text (host/config/text.ts) and checked with the
 * other options by `validateOptions`, never here. No commander defaults are set, so that what the
 * user typed can be told apart from the defaults, the environment and the config file.
 */
import { Option, type Command } from 'commander';
import { describeSchema, OPTION_DEFS, type OptionDef, type OptionKey } from '../config.js';
import { addRepeated, coerceText } from '../config/text.js';

/** The help line of one option: required mark, text, choices and default. */
export function optionHelp(def: OptionDef): string {
  const notes: string[] = [];
  const expected = describeSchema(def.schema);
  if (expected.startsWith('one of ')) notes.push(`choices: ${expected.slice('one of '.length)}`);
  const defaultText = def.meta.defaultHelp ?? (def.meta.default === undefined ? undefined : def.meta.default === '' ? 'empty' : String(def.meta.default));
  if (defaultText !== undefined) notes.push(`default: ${defaultText}`);
  if (def.meta.repeat !== undefined) notes.push('repeatable');
  const help = def.meta.required ? `(required) ${def.meta.help}` : def.meta.help;
  return notes.length === 0 ? help : `${help} (${notes.join('; ')})`;
}

/** The commander `Option` of one schema option. */
export function optionFlag(def: OptionDef): Option {
  const option = new Option(def.meta.arg === undefined ? def.flag : `${def.flag} ${def.meta.arg}`, optionHelp(def));
  if (def.meta.arg !== undefined) {
    option.argParser((text: string, previous: unknown) => (def.meta.repeat === undefined ? coerceText(def, text) : addRepeated(def, text, previous, def.flag)));
  }
  return option;
}

/** Adds every schema option to `cmd` as a flag. */
export function addOptionFlags(cmd: Command): Command {
  for (const def of OPTION_DEFS) cmd.addOption(optionFlag(def));
  return cmd;
}

/** The schema options the user typed on the command line, by option key. */
export function flagValues(opts: Record<string, unknown>): Partial<Record<OptionKey, unknown>> {
  const out: Partial<Record<OptionKey, unknown>> = {};
  for (const def of OPTION_DEFS) if (opts[def.key] !== undefined) out[def.key] = opts[def.key];
  return out;
}
