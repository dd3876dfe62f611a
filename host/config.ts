/**
 * Broker configuration: the option schema and `resolveOptions`, which validates everything once,
 * before any socket exists. The parts live in host/config/ (schema.ts is the single source of
 * every option); this module is their entry point.
 */
export * from './config/index.js';
