/**
 * Public API of plugbroker: create a broker, its option and event types, and the error classes.
 */
export { Broker, createBroker, type BrokerStats, type ListenerInfo } from './broker.js';
export { DEFAULTS, resolveOptions, type BrokerOptions, type ResolvedOptions, type LogLevelName } from './config.js';
export * from './errors.js';
export type { PluginHealth } from './plugin/runtime/health.js';
export type { CloseReason, PeerInfo } from './plugin/world.js';
