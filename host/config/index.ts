/**
 * Configuration: one schema (schema.ts) for every option's type, default, validation, flag,
 * config-file key, environment variable and JSON Schema. Library entry: `resolveOptions`.
 */
export * from './schema.js';
export { resolveOptions, validateOptions, describeSchema, subject, type OptionSource, type OptionSources } from './resolve.js';
export { type UpstreamServiceOptions } from './upstream.js';
export { planReload, type ReloadPlan } from './reload.js';
