/**
 * The `host` interface of `wit/plugin.wit`, implemented for one plugin. Arguments arrive already
 * lifted (see imports.ts); each function checks what the plugin may get wrong and delegates to the
 * router or the logger. It holds no state of its own.
 */
import type { Logger } from 'pino';
import { PluginBadArgumentError } from '../errors.js';
import { PLUGIN_LOG_LEVELS } from '../plugin/world.js';
import type { Router } from '../routing/router.js';
import type { GroupsImports } from './groups.js';
import type { TimersImports } from './timers.js';
import type { UpstreamsImports } from './upstreams.js';

/** What a plugin instance may call, with arguments lifted out of its linear memory. */
export interface HostImports {
  /**
   * `channel-send`: `src[start, end)` is the payload, a view into plugin memory valid only during
   * the call (the router copies it).
   */
  channelSend(channel: number, src: Uint8Array, start: number, end: number): boolean;
  /** `channel-close`. */
  channelClose(channel: number): void;
  /** `channel-authenticate`. */
  channelAuthenticate(channel: number): boolean;
  /** `log`, with the level's discriminant. */
  log(level: number, message: string): void;
  /** `now-ms`. */
  nowMs(): bigint;
  /** Interface `groups` (in a worker: answered from its mirror, sends recorded as effects); absent: its functions return false/0. */
  groups?: GroupsImports;
  /** Interface `timers` (the worker records its calls as effects); absent: `timer-set` returns false. */
  timers?: TimersImports;
  /** Interface `upstreams` (in a worker: handles from a reserved pool, opens recorded as effects); absent: `upstream-open` returns 0. */
  upstreams?: UpstreamsImports;
}

/** Builds the `host` interface of one plugin over `router`, logging to `logger`. */
export function createHostImports(router: Router, logger: Logger): HostImports {
  return {
    channelSend: (channel, src, start, end) => router.send(channel, src, start, end),
    channelClose: (channel) => router.closeByPlugin(channel),
    channelAuthenticate: (channel) => router.authenticate(channel),
    log(level, message) {
      const name = PLUGIN_LOG_LEVELS[level];
      if (name === undefined) throw new PluginBadArgumentError('log', `log-level ${level} (expected 0..${PLUGIN_LOG_LEVELS.length - 1})`);
      logger[name](message);
    },
    nowMs: () => BigInt(Date.now()),
  };
}
