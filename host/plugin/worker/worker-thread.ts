/**
 * Entry of a plugin worker thread (worker isolation). Instantiates the plugin, runs the batches of
 * calls the I/O thread posts, and posts back each batch's effects. Host calls are answered here by
 * the `EffectRecorder` (effect-recorder.ts) from mirrors of what this instance knows; the I/O thread
 * then applies the effects in order.
 */
import { parentPort } from 'node:worker_threads';
import { MAX_WORKER_BATCH_EFFECT_BYTES, PLUGIN_CALL_SAMPLE_EVERY } from '../../limits.js';
import { PluginInstance } from '../abi/instance.js';
import type { PluginSpec } from '../load/plugin-spec.js';
import { EffectRecorder } from './effect-recorder.js';
import {
  CALL_ADOPT,
  CALL_BROKEN,
  CALL_CONNECT,
  CALL_DATA_MIRROR,
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
  EFFECT_CONNECT_RESULT,
  EFFECT_SNAPSHOT,
  countRecords,
  decodePeer,
  forEachRecord,
  toWireError,
  type FromWorker,
  type InitMessage,
  type ToWorker,
  type WireError,
} from './worker-protocol.js';

const port = parentPort!;
let init: InitMessage;
let ctl: Int32Array;
/** The shared buffers batches are read from and effects written into (worker-protocol.ts). */
let requests: Uint8Array;
let results: Uint8Array;
/**
 * Each batch is copied out of `requests` in one piece before it runs: a copy out of shared memory
 * is cheap in bulk from offset 0 but ≈ 3 × dearer per record at odd offsets (V8 copies shared
 * memory word by word only when both sides align), and every call body is copied again into the
 * instance's memory.
 */
let batch: Buffer;
let recorder: EffectRecorder;
let instance: PluginInstance | undefined;
/** Calls counted for sampling; one in PLUGIN_CALL_SAMPLE_EVERY of the four handle-* exports is timed (#11). */
let calls = 0;
const SAMPLE_MASK = PLUGIN_CALL_SAMPLE_EVERY - 1;
const YES = Uint8Array.of(1);
const NO = Uint8Array.of(0);

function post(msg: FromWorker): void {
  // Effects too large for the shared buffer are in a fresh buffer: hand it over instead of copying it again.
  port.postMessage(msg, msg.type === 'result' && msg.effects !== undefined ? [msg.effects.buffer as ArrayBuffer] : []);
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
  // The I/O thread's index is the truth after a failure: it seeds the mirror (CALL_GROUP_MIRROR).
  recorder.reset();
  let error: WireError | null = null;
  let refused = false;
  enter(CALL_START, 0);
  try {
    const spec = { ...init, module: init.module } as unknown as PluginSpec;
    const inst = new PluginInstance(spec, recorder.imports);
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

function runBatch(id: number, bytes: Uint8Array, queued: readonly number[]): void {
  const inst = instance;
  if (inst === undefined) return; // failed: batches are ignored until `restart`
  const effects = recorder.effects;
  recorder.beginBatch(queued);
  let failedAt = -1;
  let error: WireError | null = null;
  let restOffset = bytes.length;
  const timings: number[] = [];
  forEachRecord(bytes, (r, i, next) => {
    enter(r.kind, r.channel);
    const timed = (r.kind === CALL_MSG || r.kind === CALL_CONNECT || r.kind === CALL_BROKEN || r.kind === CALL_TIMER) && (++calls & SAMPLE_MASK) === 0;
    const t0 = timed ? performance.now() : 0;
    try {
      switch (r.kind) {
        case CALL_MSG:
          if (recorder.isLive(r.channel)) inst.handleMsg(r.channel, r.body);
          break;
        case CALL_CONNECT: {
          recorder.channelConnected(r.channel);
          const ok = inst.handleConnect(r.channel, decodePeer(r.body));
          if (!ok) recorder.channelRefused(r.channel);
          effects.push(EFFECT_CONNECT_RESULT, r.channel, ok ? YES : NO);
          break;
        }
        case CALL_BROKEN:
          try {
            if (recorder.channelBroken(r.channel)) inst.handleBroken(r.channel, r.bytes[r.start]);
          } finally {
            recorder.channelEnded(r.channel); // its data was readable during handle-broken, not after
          }
          break;
        case CALL_DATA_MIRROR:
          recorder.seedData(r.body);
          break;
        case CALL_GROUP_MIRROR:
          recorder.seedGroups(r.body);
          break;
        case CALL_SNAPSHOT:
          effects.push(EFFECT_SNAPSHOT, 0, init.stateful ? inst.snapshot() : undefined);
          break;
        case CALL_RESTORE:
          inst.restore(r.body);
          break;
        case CALL_ADOPT:
          // The restored state knows this channel; the mirror learns it from the I/O thread.
          recorder.channelConnected(r.channel);
          break;
        case CALL_STOP:
          inst.stop();
          break;
        case CALL_TIMER: {
          const token = r.body.readBigUInt64LE(0);
          if (recorder.timerFiring(token, r.body.readUInt32LE(8))) inst.handleTimer(token);
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
    if (timed) timings.push(r.kind, (performance.now() - t0) / 1000);
    // Effects bounded per batch: the calls after this one go back to the I/O thread's queue.
    if (effects.length >= MAX_WORKER_BATCH_EFFECT_BYTES && next < bytes.length) {
      restOffset = next;
      return false;
    }
    return true;
  });
  if (failedAt >= 0) instance = undefined;
  const restCount = failedAt >= 0 || restOffset === bytes.length ? 0 : countRecords(bytes, restOffset);
  let length = 0;
  let effectBytes: Uint8Array | undefined;
  if (effects.length <= results.length) length = effects.takeInto(results, results.length);
  else effectBytes = effects.take();
  post({ type: 'result', id, length, effects: effectBytes, failedAt, error, restOffset, restCount, memoryBytes: inst.memoryBytes, timings });
}

port.on('message', (msg: ToWorker) => {
  switch (msg.type) {
    case 'init':
      init = msg;
      ctl = new Int32Array(msg.ctl);
      requests = new Uint8Array(msg.requests);
      results = new Uint8Array(msg.results);
      batch = Buffer.allocUnsafeSlow(requests.length);
      recorder = new EffectRecorder({
        maxFrameBytes: msg.maxFrameBytes,
        maxOutboundBytes: msg.maxOutboundBytes,
        timed: msg.timed,
        upstreamServices: msg.upstreamServices,
        maxChannelDataBytes: msg.maxChannelDataBytes,
      });
      recorder.addHandles(msg.handles);
      recorder.setRemoteSizes(msg.remoteSizes);
      startInstance();
      break;
    case 'restart':
      startInstance();
      break;
    case 'batch':
      recorder.addHandles(msg.handles);
      recorder.setRemoteSizes(msg.remoteSizes);
      if (msg.bytes === undefined) batch.set(requests.subarray(0, msg.length), 0);
      runBatch(msg.id, msg.bytes ?? batch.subarray(0, msg.length), msg.queued);
      break;
  }
});
