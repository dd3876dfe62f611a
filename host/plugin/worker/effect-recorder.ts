/**
 * The host side of a plugin instance inside a worker thread (worker isolation): the same WIT
 * interfaces as on the I/O thread, built by the same host-api functions (so every argument check
 * is the one inline isolation runs), over targets that answer from the worker's own mirrors and
 * record an effect for the I/O thread to apply after the batch, in order.
 *
 * - `host`: `channel-send` is false for channels this instance does not know (never connected,
 *   refused, closed by the plugin, broken), as inline; it cannot see the peer's outbound queue from
 *   here: a frame that finds it full is dropped on the I/O thread and the peer closed
 *   (`slow-consumer`), as inline (README, Isolation).
 * - `groups`: a mirror of the memberships this instance made (`group-join`/`leave`, a channel
 *   leaving all its groups when it closes, is refused or breaks), seeded from the I/O thread's index
 *   after a restart or swap. `group-join`, `group-leave` and `group-size` answer from it;
 *   `group-send` is an effect and returns the mirror's member count (minus `except`): the worker's
 *   view, which counts a member the I/O thread has closed but whose `handle-broken` has not
 *   reached the worker yet.
 * - `timers`: the worker mirrors the tokens it armed (the cap, `timer-cancel`'s answer); the I/O
 *   thread holds the timers.
 * - `upstreams`: `upstream-open` takes a channel handle from a pool the I/O thread reserved for it
 *   (refilled with every batch) and records the open; an empty pool or an unknown service answers 0.
 */
import type { HostImports } from '../../host-api/host-imports.js';
import { createGroupsInterface } from '../../host-api/groups.js';
import { createHostInterface } from '../../host-api/host.js';
import { createTimersInterface } from '../../host-api/timers.js';
import { createUpstreamsInterface } from '../../host-api/upstreams.js';
import { MAX_PLUGIN_TIMERS } from '../../limits.js';
import { GroupIndex } from '../../routing/groups.js';
import { PLUGIN_LOG_LEVELS } from '../world.js';
import {
  EFFECT_AUTHENTICATE,
  EFFECT_CLOSE,
  EFFECT_GROUP_JOIN,
  EFFECT_GROUP_LEAVE,
  EFFECT_GROUP_SEND,
  EFFECT_LOG,
  EFFECT_SEND,
  EFFECT_TIMER_CANCEL,
  EFFECT_TIMER_SET,
  EFFECT_UPSTREAM_OPEN,
  RecordWriter,
  encodeNamed,
  forEachMembership,
} from './worker-protocol.js';

/** What the recorder is configured with (from the worker's init message). */
export interface RecorderOptions {
  readonly maxFrameBytes: number;
  /** Whether the plugin exports `handle-timer`. */
  readonly timed: boolean;
  /** Configured upstream service names. */
  readonly upstreamServices: readonly string[];
}

/** The worker's host imports and the mirrors they answer from. */
export class EffectRecorder {
  /** The WIT interfaces the instance is built with. */
  readonly imports: HostImports;
  /** Effects of the batch so far. */
  readonly effects = new RecordWriter();
  /** Channels this instance knows: true while live, false once closing (refused or closed by the plugin). */
  readonly #channels = new Map<number, boolean>();
  /** Memberships this instance made (or was seeded with). */
  readonly #groups = new GroupIndex();
  /** Timers this instance armed: token → repeating. */
  readonly #armed = new Map<bigint, boolean>();
  /** Channel handles the I/O thread reserved for `upstream-open`, in the order they are handed out. */
  readonly #handles: number[] = [];
  readonly #upstreamServices: ReadonlySet<string>;

  constructor(opts: RecorderOptions) {
    this.#upstreamServices = new Set(opts.upstreamServices);
    const effects = this.effects;
    const channels = this.#channels;
    const groups = this.#groups;
    const armed = this.#armed;
    const limits = { maxFrameBytes: opts.maxFrameBytes };
    this.imports = {
      host: createHostInterface(
        {
          send(channel, src, start, end) {
            if (channels.get(channel) !== true) return false;
            effects.push(EFFECT_SEND, channel, src, start, end);
            return true;
          },
          close(channel) {
            if (channels.get(channel) !== true) return;
            channels.set(channel, false);
            groups.leaveAll(channel); // as inline: a closing channel is no longer live, so no longer a member
            effects.push(EFFECT_CLOSE, channel);
          },
          authenticate(channel) {
            if (channels.get(channel) !== true) return false;
            effects.push(EFFECT_AUTHENTICATE, channel);
            return true;
          },
          log: (level, message) => effects.pushString(EFFECT_LOG, PLUGIN_LOG_LEVELS.indexOf(level), message),
        },
        limits,
      ),
      groups: createGroupsInterface(
        {
          join(group, channel) {
            if (channels.get(channel) !== true) return false;
            const result = groups.join(group, channel);
            if (result === 'joined') effects.pushString(EFFECT_GROUP_JOIN, channel, group);
            return result !== 'too-many-groups';
          },
          leave(group, channel) {
            if (!groups.leave(group, channel)) return false;
            effects.pushString(EFFECT_GROUP_LEAVE, channel, group);
            return true;
          },
          send(group, src, start, end, except) {
            const members = groups.members(group);
            if (members === undefined) return 0;
            const count = members.size - (except !== 0 && members.has(except) ? 1 : 0);
            if (count > 0) effects.push(EFFECT_GROUP_SEND, except, encodeNamed(group, src, start, end));
            return count;
          },
          size: (group) => groups.size(group),
        },
        limits,
      ),
      timers: createTimersInterface(
        {
          set(token, delayMs, repeat) {
            if (!armed.has(token) && armed.size >= MAX_PLUGIN_TIMERS) return false;
            armed.set(token, repeat);
            const body = Buffer.alloc(13);
            body.writeBigUInt64LE(token, 0);
            body.writeUInt32LE(delayMs, 8);
            body[12] = repeat ? 1 : 0;
            effects.push(EFFECT_TIMER_SET, 0, body);
            return true;
          },
          cancel(token) {
            if (!armed.delete(token)) return false;
            const body = Buffer.alloc(8);
            body.writeBigUInt64LE(token, 0);
            effects.push(EFFECT_TIMER_CANCEL, 0, body);
            return true;
          },
        },
        { timed: opts.timed },
      ),
      upstreams: createUpstreamsInterface({
        open: (service, key) => {
          if (!this.#upstreamServices.has(service)) return 0;
          const handle = this.#handles.shift(); // in order, as inline hands out handles
          if (handle === undefined) return 0;
          channels.set(handle, true);
          effects.push(EFFECT_UPSTREAM_OPEN, handle, encodeNamed(service, key));
          return handle;
        },
      }),
    };
  }

  /** A fresh instance: it knows no channel, no timer and no membership (the I/O thread seeds those). */
  reset(): void {
    this.#channels.clear();
    this.#armed.clear(); // the I/O thread drops the old instance's timers too
    this.#groups.clear();
    this.effects.take();
  }

  /** More reserved handles for `upstream-open`. */
  addHandles(handles: readonly number[]): void {
    for (const h of handles) this.#handles.push(h);
  }

  /** Whether `channel` is live for this instance (frames for it are delivered). */
  isLive(channel: number): boolean {
    return this.#channels.get(channel) === true;
  }

  /** The instance is about to get `handle-connect` (or adopts the channel with a restored state). */
  channelConnected(channel: number): void {
    this.#channels.set(channel, true);
  }

  /** The instance refused `channel`: it stays known (its handle-broken follows) but takes no more frames. */
  channelRefused(channel: number): void {
    this.#channels.set(channel, false);
    this.#groups.leaveAll(channel);
  }

  /**
   * `channel` ended on the I/O thread (which took it out of its groups before this call, as
   * inline). True when the instance knew it: then it gets `handle-broken`.
   */
  channelBroken(channel: number): boolean {
    this.#groups.leaveAll(channel);
    return this.#channels.delete(channel);
  }

  /** Replaces the membership mirror with the I/O thread's index (`encodeMemberships` body). */
  seedGroups(body: Buffer): void {
    this.#groups.clear();
    forEachMembership(body, (group, ch) => void this.#groups.join(group, ch));
  }

  /** A timer is about to fire: a one-shot is no longer armed. */
  timerFiring(token: bigint): void {
    if (this.#armed.get(token) === false) this.#armed.delete(token);
  }
}
