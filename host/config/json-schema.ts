/**
 * The JSON Schema of the config file (`broker config schema`), generated from the option schema:
 * keys are the flags without dashes, each with its description and default, unknown keys refused
 * (`additionalProperties: false`). Editors use it for completion and checks
 * (`# yaml-language-server: $schema=broker.schema.json` in a YAML file, `"$schema"` in JSON).
 */
import * as z from 'zod';
import { OPTION_DEFS } from './schema.js';

/** The config file's schema as zod (file keys, every option optional). */
export function configFileSchema(): z.ZodType {
  const shape: Record<string, z.ZodType> = { $schema: z.string().optional().meta({ description: 'the JSON Schema of this file (for editors); ignored' }) };
  for (const def of OPTION_DEFS) {
    const meta: Record<string, unknown> = { description: def.meta.help };
    if (def.meta.default !== undefined) meta.default = def.meta.default;
    shape[def.fileKey] = def.schema.optional().meta(meta);
  }
  return z.strictObject(shape);
}

/** The JSON Schema (draft 2020-12) `broker config schema` prints. */
export function configJsonSchema(): Record<string, unknown> {
  const json = z.toJSONSchema(configFileSchema(), { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  // zod leaves out the default of a value it transforms (upstream): put it back.
  const properties = json.properties as Record<string, Record<string, unknown>>;
  for (const def of OPTION_DEFS) if (def.meta.default !== undefined) properties[def.fileKey].default ??= def.meta.default;
  return { ...json, title: 'plugbroker configuration (broker serve --config)', description: 'Keys are the broker serve flags without their dashes.' };
}
