/**
 * Option values written as text (command-line flags and environment variables) → the values the
 * schema checks. Text that does not look like the option's type is passed on unchanged, so that
 * the schema's message reports it (`--port must be an integer from 0 to 65535, got "ten"`): there
 * is one set of rules, never a second one here.
 */
import { InvalidOptionError } from '../errors.js';
import { jsonSchemaOf } from './resolve.js';
import type { OptionDef } from './schema.js';
import { splitUpstreamFlag, UPSTREAM_TEXT_EXPECTED } from './upstream.js';

const NUMBER_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

/** The JSON type of an option's value: decides how its text is read. */
function valueType(def: OptionDef): string | undefined {
  return (jsonSchemaOf(def.schema) as { type?: string }).type;
}

/** Reads one text value of `def` (a number, a boolean or the text itself). */
export function coerceText(def: OptionDef, text: string): unknown {
  const type = valueType(def);
  if ((type === 'integer' || type === 'number') && NUMBER_TEXT.test(text.trim())) return Number(text);
  if (type === 'boolean') {
    const t = text.trim().toLowerCase();
    if (t === 'true' || t === '1' || t === 'yes') return true;
    if (t === 'false' || t === '0' || t === 'no') return false;
  }
  return text;
}

/**
 * Adds one occurrence of a repeatable flag's text to what earlier occurrences collected: a list
 * (`--listen a --listen b`) or a map (`--upstream logic=… --upstream chat=…`).
 * @throws {InvalidOptionError} for a map entry without `name=`.
 */
export function addRepeated(def: OptionDef, text: string, previous: unknown, subject: string): unknown {
  if (def.meta.repeat === 'map') {
    const entry = splitUpstreamFlag(text);
    if (entry === undefined) throw new InvalidOptionError(def.key, text, `name=${UPSTREAM_TEXT_EXPECTED}`, { subject });
    return { ...(previous as Record<string, string> | undefined), [entry[0]]: entry[1] };
  }
  return [...((previous as unknown[] | undefined) ?? []), coerceText(def, text)];
}

/**
 * Reads an environment variable's text: a repeatable option takes its items separated by
 * whitespace (`PLUGBROKER_UPSTREAM="logic=127.0.0.1:7001 chat=127.0.0.1:7002"`).
 * @throws {InvalidOptionError} as `addRepeated`.
 */
export function parseEnvText(def: OptionDef, text: string): unknown {
  if (def.meta.repeat === undefined) return coerceText(def, text);
  let value: unknown;
  for (const item of text.split(/\s+/).filter((s) => s !== '')) value = addRepeated(def, item, value, def.envVar);
  return value ?? (def.meta.repeat === 'map' ? {} : []);
}
