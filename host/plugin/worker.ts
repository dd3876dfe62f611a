/**
 * Entry of a plugin worker thread (worker isolation). Instantiates the plugin, runs the batches of
 * calls the I/O thread posts, and posts back each batch's effects. Host calls are answered here
 * from a mirror of the channels this instance knows; the I/O thread then applies the effects.
 *
 * `channel-send` in a worker returns false for channels this instance does not know (never
 * connected, refused, closed by the plugin, broken) and for frames above the size limit, exactly
 * as inline. It cannot see the peer's outbound queue from here: a frame that finds the queue full
 * is dropped on the I/O thread (README, Isolation).
 *
 * Groups: the worker keeps a mirror of the memberships its instance made (`group-join`/`leave`,
 * a channel leaving all its groups when it closes, is refused or breaks), seeded from the I/O
 * thread's index after a restart or swap (`CALL_GROUP_MIRROR`). `group-join`, `group-leave` and
 * `group-size` answer from it; `group-send` is an effect and returns the mirror's member count
 * (minus `except`): the worker's view, which counts a member the I/O thread has closed but whose
 * `handle-broken` has not reached the worker yet.
 *
 * Upstreams: `upstream-open` takes a channel handle from a pool the I/O thread reserved for it
 * (refilled with every batch) and records the open as an effect; an empty pool or an unknown
 * service answers 0. When the I/O thread cannot open (every node ejected, broker stopping), the
 * plugin gets `handle-broken(peer-closed)` for the handle.
 */
import { parentPort } from 'node:worker_threads';
import type { HostImports } from '../host-api/host.js';
import type { TimersImports } from '../host-api/timers.js';
import type { GroupsImports } from '../host-api/groups.js';
import { isValidGroupName } from '../host-api/groups.js';
import type { UpstreamsImports } from '../host-api/upstreams.js';
import { MAX_PLUGIN_TIMERS, MAX_UPSTREAM_KEY_BYTES } from '../limits.js';
import { GroupIndex } from '../routing/groups.js';
import { PluginBadArgumentError } from '../errors.js';
import { PluginInstance } from './instance.js';
import type { PluginSpec } from './plugin-spec.js';
import {
  CALL_ADOPT,
  CALL_BROKEN,
  CALL_CONNECT,
  CALL_GROUP_MIRROR,
  CALL_MSG,
  CALL_RESTORE,
  CALL_SNAPSHOT,
  CALL_START,
  CALL_STOP,
  CALL_TIMER,
  CTL_CHANNEL,
  CTL_IN_CALL,
  CTL_KIND,
  CTL_SEQ,
  EFFECT_AUTHENTICATE,
  EFFECT_CLOSE,
  EFFECT_CONNECT_RESULT,
  EFFECT_GROUP_JOIN,
  EFFECT_GROUP_LEAVE,
  EFFECT_GROUP_SEND,
  EFFECT_LOG,
  EFFECT_SEND,
  EFFECT_SNAPSHOT,
  EFFECT_TIMER_CANCEL,
  EFFECT_TIMER_SET,
  EFFECT_UPSTREAM_OPEN,
  RecordWriter,
  encodeNamed,
  forEachMembership,
  forEachRecord,
  toWireError,
  decodePeer,
  type FromWorker,
  type InitMessage,
  type ToWorker,
  type WireError,
} from './worker-protocol.js';
import { PLUGIN_LOG_LEVELS } from './world.js';

const port = parentPort!;
const effects = new RecordWriter();
/** Channels this instance knows: true while live, false once closing (refused or closed by the plugin). */
const channels = new Map<number, boolean>();
let init: InitMessage;
let ctl: Int32Array;
let instance: PluginInstance | undefined;
const YES = Uint8Array.of(1);
const NO = Uint8Array.of(0);

/** The `host` interface inside the worker: record the effect, answer from the channel mirror. */
class EffectRecorder implements HostImports {
  channelSend(channel: number, src: Buffer, start: number, end: number): boolean {
    if (channels.get(channel) !== true || end - start > init.maxFrameBytes) return false;
    effects.push(EFFECT_SEND, channel, src, start, end);
    return true;
  }
  channelClose(channel: number): void {
    if (channels.get(channel) !== true) return;
    channels.set(channel, false);
    groups.leaveAll(channel); // as inline: a closing channel is no longer live, so no longer a member
    effects.push(EFFECT_CLOSE, channel);
  }
  channelAuthenticate(channel: number): boolean {
    if (channels.get(channel) !== true) return false;
    effects.push(EFFECT_AUTHENTICATE, channel);
    return true;
  }
  log(level: number, message: string): void {
    if (PLUGIN_LOG_LEVELS[level] === undefined) throw new PluginBadArgumentError('log', `log-level ${level} (expected 0..${PLUGIN_LOG_LEVELS.length - 1})`);
    effects.pushString(EFFECT_LOG, level, message);
  }
  nowMs(): bigint {
    return BigInt(Date.now());
  }
  /** Interface `timers`: the I/O thread holds the timers; the worker answers from its own count. */
  readonly timers: TimersImports = {
    timerSet(token, delayMs, repeat) {
      if (!init.timed || (!armed.has(token) && armed.size >= MAX_PLUGIN_TIMERS)) return false;
      armed.set(token, repeat);
      const body = Buffer.alloc(13);
      body.writeBigUInt64LE(token, 0);
      body.writeUInt32LE(delayMs, 8);
      body[12] = repeat ? 1 : 0;
      effects.push(EFFECT_TIMER_SET, 0, body);
      return true;
    },
    timerCancel(token) {
      if (!armed.delete(token)) return false;
      const body = Buffer.alloc(8);
      body.writeBigUInt64LE(token, 0);
      effects.push(EFFECT_TIMER_CANCEL, 0, body);
      return true;
    },
    reset: () => armed.clear(),
  };
  /** Interface `groups`: answered from the worker's membership mirror; sends are effects. */
  readonly groups: GroupsImports = {
    groupJoin(group, channel) {
      if (!isValidGroupName(group) || channels.get(channel) !== true) return false;
      const result = groups.join(group, channel);
      if (result === 'joined') effects.pushString(EFFECT_GROUP_JOIN, channel, group);
      return result !== 'too-many-groups';
    },
    groupLeave(group, channel) {
      if (!isValidGroupName(group) || !groups.leave(group, channel)) return false;
      effects.pushString(EFFECT_GROUP_LEAVE, channel, group);
      return true;
    },
    groupSend(group, src, start, end, except) {
      if (end - start > init.maxFrameBytes || !isValidGroupName(group)) return 0;
      const members = groups.members(group);
      if (members === undefined) return 0;
      const count = members.size - (except !== 0 && members.has(except) ? 1 : 0);
      if (count > 0) effects.push(EFFECT_GROUP_SEND, except, encodeNamed(group, src, start, end));
      return count;
    },
    groupSize: (group) => (isValidGroupName(group) ? groups.size(group) : 0),
    memberships: () => groups.entries(),
  };
  /** Interface `upstreams`: a handle from the reserved pool now, the connection on the I/O thread. */
  readonly upstreams: UpstreamsImports = {
    upstreamOpen(service, key) {
      if (!upstreamServices.has(service) || Buffer.byteLength(service) > MAX_UPSTREAM_KEY_BYTES || Buffer.byteLength(key) > MAX_UPSTREAM_KEY_BYTES) return 0;
      const handle = handles.shift(); // in order, as inline hands out handles
      if (handle === undefined) return 0;
      channels.set(handle, true);
      effects.push(EFFECT_UPSTREAM_OPEN, handle, encodeNamed(service, key));
      return handle;
    },
    reset() {},
    get services() {
      return [...upstreamServices];
    },
    reserveHandle: () => 0,
    releaseHandle() {},
    upstreamOpenAs: () => false,
  };
}
/** Memberships this instance made (or was seeded with), mirrored for `group-*`'s answers. */
const groups = new GroupIndex();
/** Channel handles the I/O thread reserved for `upstream-open`. */
const handles: number[] = [];
let upstreamServices = new Set<string>();
/** Timers this instance armed (token → repeating), mirrored for `timer-set`'s cap and `timer-cancel`'s answer. */
const armed = new Map<bigint, boolean>();
const host = new EffectRecorder();

function post(msg: FromWorker): void {
  // The effects buffer is fresh for each batch: hand it over instead of copying it again.
  port.postMessage(msg, msg.type === 'result' ? [msg.effects.buffer as ArrayBuffer] : []);
}

function enter(kind: number, channel: number): void {
  ctl[CTL_KIND] = kind;
  ctl[CTL_CHANNEL] = channel;
  Atomics.add(ctl, CTL_SEQ, 1);
  Atomics.store(ctl, CTL_IN_CALL, 1);
}

function leave(): void {
  Atomics.store(ctl, CTL_IN_CALL, 0);
}

function startInstance(): void {
  instance = undefined;
  channels.clear();
  armed.clear(); // the I/O thread drops the old instance's timers too
  // The I/O thread's index is the truth after a failure: it seeds the mirror (CALL_GROUP_MIRROR).
  groups.clear();
  effects.take();
  let error: WireError | null = null;
  let refused = false;
  enter(CALL_START, 0);
  try {
    const spec = { ...init, module: init.module } as unknown as PluginSpec;
    const inst = new PluginInstance(spec, host);
    const refusal = inst.start(init.config);
    if (refusal === null) instance = inst;
    else {
      refused = true;
      error = { name: 'PluginStartError', message: refusal };
    }
  } catch (err) {
    error = toWireError(err);
  } finally {
    leave();
  }
  post({ type: 'started', error, refused, memoryBytes: instance?.memoryBytes ?? 0 });
}

function runBatch(id: number, bytes: Uint8Array): void {
  const inst = instance;
  if (inst === undefined) return; // failed: batches are ignored until `restart`
  let failedAt = -1;
  let error: WireError | null = null;
  forEachRecord(bytes, (r, i) => {
    enter(r.kind, r.channel);
    try {
      switch (r.kind) {
        case CALL_MSG:
          if (channels.get(r.channel) === true) inst.handleMsg(r.channel, r.body);
          break;
        case CALL_CONNECT: {
          channels.set(r.channel, true);
          const ok = inst.handleConnect(r.channel, decodePeer(r.body));
          // A refused channel stays known (its handle-broken follows) but takes no more frames.
          if (!ok) {
            channels.set(r.channel, false);
            groups.leaveAll(r.channel);
          }
          effects.push(EFFECT_CONNECT_RESULT, r.channel, ok ? YES : NO);
          break;
        }
        case CALL_BROKEN:
          // The I/O thread took the channel out of its groups before this call, as inline.
          groups.leaveAll(r.channel);
          if (channels.delete(r.channel)) inst.handleBroken(r.channel, r.body[0]);
          break;
        case CALL_GROUP_MIRROR:
          groups.clear();
          forEachMembership(r.body, (group, ch) => void groups.join(group, ch));
          break;
        case CALL_SNAPSHOT:
          effects.push(EFFECT_SNAPSHOT, 0, init.stateful ? inst.snapshot() : undefined);
          break;
        case CALL_RESTORE:
          inst.restore(r.body);
          break;
        case CALL_ADOPT:
          // The restored state knows this channel; the mirror learns it from the I/O thread.
          channels.set(r.channel, true);
          break;
        case CALL_STOP:
          inst.stop();
          break;
        case CALL_TIMER: {
          const token = r.body.readBigUInt64LE(0);
          if (armed.get(token) === false) armed.delete(token); // a one-shot fired
          inst.handleTimer(token);
          break;
        }
      }
    } catch (err) {
      failedAt = i;
      error = inst.outOfFuel
        ? { name: 'PluginOutOfFuelError', code: 'PB_ERR_PLUGIN_OUT_OF_FUEL', message: `used up its fuel of ${init.callFuel} steps` }
        : toWireError(err);
      return false;
    } finally {
      leave();
    }
    return true;
  });
  if (failedAt >= 0) instance = undefined;
  post({ type: 'result', id, effects: effects.take(), failedAt, error, memoryBytes: inst.memoryBytes });
}

port.on('message', (msg: ToWorker) => {
  switch (msg.type) {
    case 'init':
      init = msg;
      ctl = new Int32Array(msg.ctl);
      upstreamServices = new Set(msg.upstreamServices);
      handles.push(...msg.handles);
      startInstance();
      break;
    case 'restart':
      startInstance();
      break;
    case 'batch':
      for (const h of msg.handles) handles.push(h);
      runBatch(msg.id, msg.bytes);
      break;
  }
});
