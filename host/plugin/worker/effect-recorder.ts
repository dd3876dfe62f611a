/**
 * The host side of a plugin instance inside a worker thread (worker isolation): the same WIT
 * interfaces as on the I/O thread, built by the same host-api functions (so every argument check
 * is the one inline isolation runs), over targets that answer from the worker's own mirrors and
 * record an effect for the I/O thread to apply after the batch, in order.
 *
 * - `host`: `channel-send` is false for channels this instance does not know (never connected,
 *   refused, closed by the plugin, broken), as inline, and false at the same bound as inline: when
 *   what the I/O thread reported queued for the peer at the batch's start, plus what this batch
 *   queued for it, plus the frame would pass `maxOutboundBytes`. The channel is then closed
 *   (`slow-consumer`, an `EFFECT_OVERFLOW`) and takes no more frames, as inline.
 * - `groups`: a mirror of the memberships this instance made (`group-join`/`leave`, a channel
 *   leaving all its groups when it closes, is refused or breaks), seeded from the I/O thread's index
 *   after a restart or swap. `group-join`, `group-leave` and `group-size` answer from it;
 *   `group-send` is an effect and returns the mirror's member count (minus `except`): the worker's
 *   view, which counts a member the I/O thread has closed but whose `handle-broken` has not
 *   reached the worker yet.
 * - `timers`: the worker mirrors the tokens it armed (the cap, `timer-cancel`'s answer); the I/O
 *   thread holds the timers. Each arming gets a number (its `arm`), carried by the timer-set effect
 *   and by every firing: a firing is delivered only while its arming is the token's current one,
 *   so a firing that crossed a `timer-cancel` (which returned true) or a re-arm on its way here is
 *   dropped, and a one-shot re-armed as it fired keeps its entry and fires once, for the new arm.
 * - channel data (`channel-set-data`/`channel-get-data`): `channel-get-data` is answered at once
 *   from a mirror of the data, which the instance's own sets update (each set is also an
 *   `EFFECT_SET_DATA`, applied to the broker's store) and which is seeded from the broker's store
 *   (`CALL_DATA_MIRROR`) when a fresh instance starts after a trap or a swap, before its resumed
 *   `handle-connect`s. A set is refused for a channel the instance does not know or whose
 *   `handle-broken` is running; the data stays readable until that `handle-broken` has returned.
 * - `upstreams`: `upstream-open` takes a channel handle from a pool the I/O thread reserved for it
 *   (refilled with every batch) and records the open; an empty pool or an unknown service answers 0.
 */
import type { HostImports } from '../../host-api/host-imports.js';
import { createGroupsInterface } from '../../host-api/groups.js';
import { createHostInterface } from '../../host-api/host.js';
import { createTimersInterface } from '../../host-api/timers.js';
import { createUpstreamsInterface } from '../../host-api/upstreams.js';
import { decimalHeaderBytes } from '../../framing/decimal-encoder.js';
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
  EFFECT_OVERFLOW,
  EFFECT_SEND,
  EFFECT_SET_DATA,
  EFFECT_TIMER_CANCEL,
  EFFECT_TIMER_SET,
  EFFECT_UPSTREAM_OPEN,
  RecordWriter,
  encodeNamed,
  forEachChannelData,
  forEachMembership,
} from './worker-protocol.js';

/** What the recorder is configured with (from the worker's init message). */
export interface RecorderOptions {
  readonly maxFrameBytes: number;
  /** Bytes that may queue for one peer (`--max-outbound-bytes`). */
  readonly maxOutboundBytes: number;
  /** Whether the plugin exports `handle-timer`. */
  readonly timed: boolean;
  /** Configured upstream service names. */
  readonly upstreamServices: readonly string[];
  /** Largest channel data per channel (`--channel-data-max-bytes`). */
  readonly maxChannelDataBytes: number;
}

/** The worker's host imports and the mirrors they answer from. */
export class EffectRecorder {
  /** The WIT interfaces the instance is built with. */
  readonly imports: HostImports;
  /** Effects of the batch so far. */
  readonly effects = new RecordWriter();
  /** Channels this instance knows: true while live, false once closing (refused or closed by the plugin). */
  readonly #channels = new Map<number, boolean>();
  /** Channel data: the broker's copy as seeded, plus this instance's own sets. */
  readonly #data = new Map<number, Uint8Array>();
  /** Memberships this instance made (or was seeded with). */
  readonly #groups = new GroupIndex();
  /** Timers this instance armed: token → its current arming. */
  readonly #armed = new Map<bigint, { readonly repeat: boolean; readonly arm: number }>();
  /** Number of the last arming (u32, never 0; not reset with the instance, so an arm never repeats within the worker). */
  #lastArm = 0;
  /** Outbound bytes the I/O thread had queued per channel when the batch was posted. */
  #reported = new Map<number, number>();
  /** Outbound bytes this batch queued per channel (frames with their headers). */
  readonly #queued = new Map<number, number>();
  /** Channel handles the I/O thread reserved for `upstream-open`, in the order they are handed out. */
  readonly #handles: number[] = [];
  /** With a cluster (#12): members of each group on the other nodes, as the I/O thread last knew (outlives an instance). */
  readonly #remoteSizes = new Map<string, number>();
  readonly #upstreamServices: ReadonlySet<string>;

  constructor(opts: RecorderOptions) {
    this.#upstreamServices = new Set(opts.upstreamServices);
    const effects = this.effects;
    const channels = this.#channels;
    const groups = this.#groups;
    const remoteSizes = this.#remoteSizes;
    const armed = this.#armed;
    const queued = this.#queued;
    const maxOutboundBytes = opts.maxOutboundBytes;
    const data = this.#data;
    const limits = { maxFrameBytes: opts.maxFrameBytes, maxChannelDataBytes: opts.maxChannelDataBytes };
    this.imports = {
      host: createHostInterface(
        {
          send: (channel, src, start, end) => {
            if (channels.get(channel) !== true) return false;
            const len = end - start;
            const mine = (queued.get(channel) ?? 0) + decimalHeaderBytes(len) + len;
            if ((this.#reported.get(channel) ?? 0) + mine > maxOutboundBytes) {
              // As inline: the peer is not reading; it is closed and takes no more frames.
              channels.set(channel, false);
              groups.leaveAll(channel);
              effects.push(EFFECT_OVERFLOW, channel);
              return false;
            }
            queued.set(channel, mine);
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
          setData(channel, src, start, end) {
            // Known (live or closing) and not ending: channelBroken forgets it before handle-broken.
            if (!channels.has(channel)) return false;
            if (end > start) data.set(channel, Uint8Array.prototype.slice.call(src, start, end));
            else data.delete(channel);
            effects.push(EFFECT_SET_DATA, channel, src, start, end);
            return true;
          },
          getData: (channel) => data.get(channel),
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
            const local = members === undefined ? 0 : members.size - (except !== 0 && members.has(except) ? 1 : 0);
            // With a cluster, members on other nodes count too, as inline (the map is empty without one).
            const count = local + (remoteSizes.get(group) ?? 0);
            if (count > 0) effects.push(EFFECT_GROUP_SEND, except, encodeNamed(group, src, start, end));
            return count;
          },
          size: (group) => groups.size(group) + (remoteSizes.get(group) ?? 0),
        },
        limits,
      ),
      timers: createTimersInterface(
        {
          set: (token, delayMs, repeat) => {
            if (!armed.has(token) && armed.size >= MAX_PLUGIN_TIMERS) return false;
            const arm = (this.#lastArm = this.#lastArm >= 0xffff_ffff ? 1 : this.#lastArm + 1);
            armed.set(token, { repeat, arm });
            const body = Buffer.alloc(17);
            body.writeBigUInt64LE(token, 0);
            body.writeUInt32LE(delayMs, 8);
            body[12] = repeat ? 1 : 0;
            body.writeUInt32LE(arm, 13);
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
    this.#data.clear(); // seeded from the broker's store (CALL_DATA_MIRROR)
    this.effects.take();
  }

  /**
   * A batch starts: `queued` is what the I/O thread reported queued per channel (channel, bytes,
   * channel, bytes, …); nothing is queued by this batch yet.
   */
  beginBatch(queued: readonly number[]): void {
    this.#queued.clear();
    if (queued.length === 0 && this.#reported.size === 0) return;
    this.#reported = new Map();
    for (let i = 0; i < queued.length; i += 2) this.#reported.set(queued[i], queued[i + 1]);
  }

  /** More reserved handles for `upstream-open`. */
  addHandles(handles: readonly number[]): void {
    for (const h of handles) this.#handles.push(h);
  }

  /** Remote group sizes from the I/O thread (#12): each group's member count on the other nodes (0: none). */
  setRemoteSizes(sizes: readonly (readonly [string, number])[] | undefined): void {
    if (sizes === undefined) return;
    for (const [group, n] of sizes) {
      if (n === 0) this.#remoteSizes.delete(group);
      else this.#remoteSizes.set(group, n);
    }
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

  /** `handle-broken` of `channel` has returned (or was not delivered): its data goes. */
  channelEnded(channel: number): void {
    this.#data.delete(channel);
  }

  /** Replaces the channel-data mirror with the I/O thread's store (`encodeChannelData` body). */
  seedData(body: Buffer): void {
    this.#data.clear();
    forEachChannelData(body, (channel, bytes) => void this.#data.set(channel, Uint8Array.prototype.slice.call(bytes)));
  }

  /** Replaces the membership mirror with the I/O thread's index (`encodeMemberships` body). */
  seedGroups(body: Buffer): void {
    this.#groups.clear();
    forEachMembership(body, (group, ch) => void this.#groups.join(group, ch));
  }

  /**
   * A firing of `token` for arming `arm` arrived. True when it is to be delivered: `arm` is the
   * token's current arming (a one-shot is then no longer armed). False for a firing of an arming
   * cancelled or replaced since, or of a previous instance.
   */
  timerFiring(token: bigint, arm: number): boolean {
    const current = this.#armed.get(token);
    if (current === undefined || current.arm !== arm) return false;
    if (!current.repeat) this.#armed.delete(token);
    return true;
  }
}
