/**
 * The `host` interface of `wit/plugin.wit` (`channel-send`, `channel-close`, `channel-authenticate`,
 * `log`, `now-ms`, `channel-set-data`, `channel-get-data`). Arguments arrive lifted out of plugin memory (plugin/abi/imports.ts); each
 * function checks what the plugin may get wrong, then delegates to a `HostTarget`: the router on the
 * I/O thread (inline isolation), the effect recorder inside a plugin worker. The checks live only
 * here, so both isolation modes answer alike. No state of its own.
 */
import type { Logger } from 'pino';
import { PluginBadArgumentError } from '../errors.js';
import { PLUGIN_LOG_LEVELS, type PluginLogLevel } from '../plugin/world.js';
import type { Router } from '../routing/router.js';
import type { ChannelDataStore } from './channel-data.js';

/** The `host` interface, with arguments lifted out of the plugin's linear memory. */
export interface HostInterface {
  /**
   * `channel-send`: `src[start, end)` is the payload, a view into plugin memory valid only during
   * the call (the target copies it).
   */
  channelSend(channel: number, src: Uint8Array, start: number, end: number): boolean;
  /** `channel-close`. */
  channelClose(channel: number): void;
  /** `channel-authenticate`. */
  channelAuthenticate(channel: number): boolean;
  /**
   * `log`, with the level's discriminant.
   * @throws {PluginBadArgumentError} for a level outside `log-level` (the plugin's own trap).
   */
  log(level: number, message: string): void;
  /** `now-ms`: wall clock, ms since the epoch. */
  nowMs(): bigint;
  /**
   * `channel-set-data`: `src[start, end)` becomes the channel's data (the target copies it); false
   * when it is longer than `maxChannelDataBytes` or the channel is unknown, dead or ending.
   */
  channelSetData(channel: number, src: Uint8Array, start: number, end: number): boolean;
  /** `channel-get-data`: the channel's data, empty when none (not a copy: the ABI copies it into the plugin). */
  channelGetData(channel: number): Uint8Array;
}

/** Where `host` calls go once their arguments passed the checks. */
export interface HostTarget {
  /** Queues a frame of at most `maxFrameBytes`; false when the channel is unknown, not live or its queue is full. */
  send(channel: number, src: Uint8Array, start: number, end: number): boolean;
  close(channel: number): void;
  authenticate(channel: number): boolean;
  log(level: PluginLogLevel, message: string): void;
  /**
   * Stores `src[start, end)` (at most `maxChannelDataBytes`; empty clears) as the data of
   * `channel`; false when the channel is unknown or has ended (its `handle-broken` is due or running).
   */
  setData(channel: number, src: Uint8Array, start: number, end: number): boolean;
  /** The data of `channel`; undefined when none is stored or the channel is unknown. */
  getData(channel: number): Uint8Array | undefined;
}

/** Limits the `host` interface enforces. */
export interface HostLimits {
  /** Largest frame body a plugin may send, in bytes. */
  readonly maxFrameBytes: number;
  /** Largest channel data a plugin may store per channel (`--channel-data-max-bytes`). */
  readonly maxChannelDataBytes: number;
}

/** What `channel-get-data` returns for a channel without data. */
const NO_DATA = new Uint8Array(0);

/**
 * The name of log level `level`.
 * @throws {PluginBadArgumentError} when `level` is not a `log-level` discriminant.
 */
export function logLevelName(level: number): PluginLogLevel {
  const name = PLUGIN_LOG_LEVELS[level];
  if (name === undefined) throw new PluginBadArgumentError('log', `log-level ${level} (expected 0..${PLUGIN_LOG_LEVELS.length - 1})`);
  return name;
}

/** Builds the `host` interface over `target`. */
export function createHostInterface(target: HostTarget, limits: HostLimits): HostInterface {
  const maxFrameBytes = limits.maxFrameBytes;
  const maxChannelDataBytes = limits.maxChannelDataBytes;
  return {
    channelSend: (channel, src, start, end) => end - start <= maxFrameBytes && target.send(channel, src, start, end),
    channelClose: (channel) => target.close(channel),
    channelAuthenticate: (channel) => target.authenticate(channel),
    log: (level, message) => target.log(logLevelName(level), message),
    nowMs: () => BigInt(Date.now()),
    channelSetData: (channel, src, start, end) => end - start <= maxChannelDataBytes && target.setData(channel, src, start, end),
    channelGetData: (channel) => target.getData(channel) ?? NO_DATA,
  };
}

/**
 * The I/O thread's `host` target: frames and closes through `router`, log lines to `logger`,
 * channel data in `data` for the channels the router knows (live or closing; a channel that ended
 * is gone from it before its `handle-broken`, so a set from there returns false).
 */
export function routerHostTarget(router: Router, logger: Logger, data: ChannelDataStore): HostTarget {
  return {
    send: (channel, src, start, end) => router.send(channel, src, start, end),
    close: (channel) => router.closeByPlugin(channel),
    authenticate: (channel) => router.authenticate(channel),
    log: (level, message) => logger[level](message),
    setData(channel, src, start, end) {
      if (!router.knows(channel)) return false;
      data.set(channel, src, start, end);
      return true;
    },
    getData: (channel) => data.get(channel),
  };
}
