/**
 * Entry of a plugin worker thread (worker isolation). Instantiates the plugin, runs the batches of
 * calls the I/O thread posts, and posts back each batch's effects. Host calls are answered here
 * from a mirror of the channels this instance knows; the I/O thread then applies the effects.
 *
 * `channel-send` in a worker returns false for channels this instance does not know (never
 * connected, refused, closed by the plugin, broken) and for frames above the size limit, exactly
 * as inline. It cannot see the peer's outbound queue from here: a frame that finds the queue full
 * is dropped on the I/O thread (README, Isolation).
 */
import { parentPort } from 'node:worker_threads';
import type { HostImports } from '../host-api/host.js';
import type { TimersImports } from '../host-api/timers.js';
import { MAX_PLUGIN_TIMERS } from '../limits.js';
import { PluginBadArgumentError } from '../errors.js';
import { PluginInstance } from './instance.js';
import type { PluginSpec } from './plugin-spec.js';
import {
  CALL_ADOPT,
  CALL_BROKEN,
  CALL_CONNECT,
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
  EFFECT_LOG,
  EFFECT_SEND,
  EFFECT_SNAPSHOT,
  EFFECT_TIMER_CANCEL,
  EFFECT_TIMER_SET,
  RecordWriter,
  forEachRecord,
  toWireError,
  type FromWorker,
  type InitMessage,
  type ToWorker,
  type WireError,
} from './worker-protocol.js';
import { PLUGIN_LOG_LEVELS, TRANSPORT_KINDS } from './world.js';

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
}
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
          const peer = { port: r.body.readUInt16LE(0), transport: TRANSPORT_KINDS[r.body[2]], resumed: r.body[3] === 1, address: r.body.toString('utf8', 4) };
          const ok = inst.handleConnect(r.channel, peer);
          // A refused channel stays known (its handle-broken follows) but takes no more frames.
          if (!ok) channels.set(r.channel, false);
          effects.push(EFFECT_CONNECT_RESULT, r.channel, ok ? YES : NO);
          break;
        }
        case CALL_BROKEN:
          if (channels.delete(r.channel)) inst.handleBroken(r.channel, r.body[0]);
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
      startInstance();
      break;
    case 'restart':
      startInstance();
      break;
    case 'batch':
      runBatch(msg.id, msg.bytes);
      break;
  }
});
