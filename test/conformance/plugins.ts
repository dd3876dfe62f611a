/**
 * The plugins the conformance suite runs, one per language and kind. `npm test` builds them all
 * with `broker build` (package.json `build:plugins` and `build:polyglot`); a missing one fails its
 * suite rather than skipping it.
 */
import { fileURLToPath } from 'node:url';
import type { BrokerOptions } from '../../host/config.js';
import { ECHO_WASM } from '../helpers/paths.js';

/** A built plugin component and the language it was written in. */
export interface ConformancePlugin {
  language: 'AssemblyScript' | 'C' | 'Rust';
  path: string;
}

const built = (dir: string): string => fileURLToPath(new URL(`../../plugins/${dir}/build/${dir}.wasm`, import.meta.url));

/** Echo: every frame comes back unchanged. */
export const ECHO_PLUGINS: readonly ConformancePlugin[] = [
  { language: 'AssemblyScript', path: ECHO_WASM },
  { language: 'C', path: built('echo-c') },
  { language: 'Rust', path: built('echo-rust') },
];

/** Login: `login <name>` first, then every frame prefixed with the name (docs/plugins.md). */
export const LOGIN_PLUGINS: readonly ConformancePlugin[] = [
  { language: 'AssemblyScript', path: built('login-as') },
  { language: 'C', path: built('login-c') },
  { language: 'Rust', path: built('login-rust') },
];

/**
 * Chat: rooms through broker groups, `ping <ms>` through a broker timer, `ask <text>` through an
 * upstream channel (docs/plugins.md). Exercises the `groups`, `timers` and `upstreams` interfaces
 * and world `timed-plugin`.
 */
export const CHAT_PLUGINS: readonly ConformancePlugin[] = [
  { language: 'AssemblyScript', path: built('chat-as') },
  { language: 'C', path: built('chat-c') },
  { language: 'Rust', path: built('chat-rust') },
];

/** A way the broker runs plugins; the scenarios must hold in each. */
export interface RunMode {
  mode: string;
  options: Pick<BrokerOptions, 'isolation' | 'pluginCallFuel'>;
}

/** Inline (the default), inline with a fuel budget compiled into the plugin, and worker isolation. */
export const RUN_MODES: readonly RunMode[] = [
  { mode: 'inline', options: {} },
  { mode: 'inline with a fuel budget', options: { pluginCallFuel: 50_000_000 } },
  { mode: 'worker isolation', options: { isolation: 'worker' } },
];

/** Every plugin in every mode, for `describe.each`. */
export function inEveryMode(plugins: readonly ConformancePlugin[], modes: readonly RunMode[] = RUN_MODES): Array<ConformancePlugin & RunMode> {
  return plugins.flatMap((plugin) => modes.map((mode) => ({ ...plugin, ...mode })));
}
