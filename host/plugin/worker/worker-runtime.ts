/**
 * `WorkerRuntime`: runs one plugin in a `worker_threads` Worker (worker isolation). The I/O thread
 * never waits for the plugin: calls are queued, posted in batches (one batch in flight at a time;
 * what arrives meanwhile forms the next one), and their effects are applied when the batch comes
 * back. A watchdog on the I/O thread reads the worker's call counter from shared memory and
 * terminates a worker whose call runs past `callBudgetMs` (≈ 2–3 ms to stop, docs/plugin-runtime.md).
 *
 * Ordering across the thread boundary:
 * - calls reach the instance in the order the broker made them, so per channel `handle-connect`
 *   comes first, frames in order, `handle-broken` last, exactly as inline;
 * - `handle-connect`'s answer is asynchronous: the broker opens the channel at once, its frames
 *   queue behind the connect, and the worker skips frames of a channel whose connect returned
 *   false (the plugin never sees them); the refusal reaches the broker through
 *   `RuntimeOwner.onConnectDecided`, which closes the channel (`refused-by-plugin`);
 * - after a failure the calls that had not run (and, after a timeout, those whose effects died
 *   with the worker) are replayed to the fresh instance after the resumed `handle-connect`s, minus
 *   those about the failed channel: bystanders lose no frame.
 *
 * Groups and upstreams cross like timers: the worker answers from its own mirror and records an
 * effect that this thread applies (effect-recorder.ts). Failures go through the failure policy both
 * runtimes share (../runtime/failure-policy.ts). Two pieces of this thread's state go the other way:
 * - the group index seeds the worker's mirror (`CALL_GROUP_MIRROR`) first thing after a restart
 *   and after a swap (`restore` or `adoptGroups`), when the index holds every effect of the
 *   instances before;
 * - a reserve of channel handles (`WORKER_UPSTREAM_HANDLE_RESERVE`, reserved in the registry and
 *   topped up with every batch) lets `upstream-open` return a handle at once. Handles the worker
 *   took come back as `EFFECT_UPSTREAM_OPEN`; a fresh worker gets the whole reserve again (a dead
 *   worker's unapplied opens never happened here); the reserve is released when the runtime ends.
 */
import { Worker } from 'node:worker_threads';
import { PluginOutOfFuelError, PluginStartError, PluginTimeoutError, PluginTrapError, type PluginFailedError } from '../../errors.js';
import type { HostImports } from '../../host-api/host-imports.js';
import {
  MAX_PLUGIN_PENDING_CALLS,
  MAX_WORKER_BATCH_BYTES,
  WORKER_REQUEST_BUFFER_BYTES,
  WORKER_RESULT_BUFFER_BYTES,
  WORKER_UPSTREAM_HANDLE_RESERVE,
} from '../../limits.js';
import type { PluginSpec } from '../load/plugin-spec.js';
import { FailurePolicyEnforcer, scheduleRestart, type PluginCallError } from '../runtime/failure-policy.js';
import { HealthState, type PluginHealth } from '../runtime/health.js';
import type { PluginRuntime, RuntimeOptions, RuntimeOwner } from '../runtime/runtime.js';
import type { RuntimeServices } from '../runtime/runtime-services.js';
import type { RemoteSizeFeed } from '../../cluster/cluster.js';
import {
  CALL_ADOPT,
  CALL_BROKEN,
  CALL_CONNECT,
  CALL_DATA_MIRROR,
  CALL_EXPORTS,
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
  CTL_SLOTS,
  EFFECT_AUTHENTICATE,
  EFFECT_CLOSE,
  EFFECT_CONNECT_RESULT,
  EFFECT_GROUP_JOIN,
  EFFECT_GROUP_LEAVE,
  EFFECT_GROUP_SEND,
  EFFECT_LOG,
  EFFECT_OVERFLOW,
  EFFECT_SEND,
  EFFECT_SET_DATA,
  EFFECT_SNAPSHOT,
  EFFECT_TIMER_CANCEL,
  EFFECT_TIMER_SET,
  EFFECT_UPSTREAM_OPEN,
  RecordWriter,
  decodeNamed,
  encodeChannelData,
  encodeMemberships,
  encodePeer,
  forEachRecord,
  type FromWorker,
  type ResultMessage,
  type StartedMessage,
  type WireError,
} from './worker-protocol.js';
import { closeReasonCode, type PeerInfo } from '../world.js';
import { CallWatchdog } from './call-watchdog.js';
import { workerEntry } from './worker-entry.js';
import { decodeCalls, planReplay, type Call } from './worker-replay.js';
import { TIMED_EXPORTS, type CallTimings, type TimedExport } from '../../metrics/call-timings.js';

type Phase = 'idle' | 'starting' | 'ready' | 'restarting' | 'failed' | 'closed';

export class WorkerRuntime implements PluginRuntime {
  readonly spec: PluginSpec;
  readonly isolation = 'worker' as const;
  readonly #imports: HostImports;
  readonly #services: RuntimeServices;
  readonly #config: string;
  readonly #owner: RuntimeOwner;
  readonly #health: HealthState;
  readonly #policy: FailurePolicyEnforcer;
  readonly #maxFrameBytes: number;
  readonly #maxOutboundBytes: number;
  readonly #maxChannelDataBytes: number;
  /**
   * Channels the worker sent frames to whose outbound queue may not be empty: their queued bytes
   * go with each batch, for `channel-send`'s `maxOutboundBytes` check in the worker.
   */
  readonly #watched = new Set<number>();
  readonly #ctlBuffer = new SharedArrayBuffer(CTL_SLOTS * 4);
  readonly #ctl = new Int32Array(this.#ctlBuffer);
  #worker: Worker | undefined;
  /** The current worker's shared buffers: calls in (this thread writes), effects out (the worker writes). */
  #requests: Uint8Array = new Uint8Array(0);
  #results: Uint8Array = new Uint8Array(0);
  /** The effects of a batch are copied out of `#results` in one piece before they are applied (see worker-thread.ts `batch`). */
  readonly #effects = Buffer.allocUnsafeSlow(WORKER_RESULT_BUFFER_BYTES);
  #phase: Phase = 'idle';
  #generation = 0;
  #memoryBytes = 0;
  /** Calls not yet posted. */
  #queue = new RecordWriter();
  /** The batch the worker is running. */
  #inflight: { id: number; bytes: Uint8Array } | undefined;
  #batchId = 0;
  #flushScheduled = false;
  /** Calls wait while a swap's `restore` state is not there yet. */
  #gated = false;
  /** Swapped out (hot swap): finishing its queue, then gone; failures no longer restart it. */
  #detached = false;
  /** Channels whose connect was queued and whose broken was not: their peers, for resumed replays. */
  readonly #connected = new Map<number, PeerInfo>();
  #onStarted: ((msg: StartedMessage) => void) | undefined;
  #onIdle: (() => void) | undefined;
  #onSnapshot: ((state: Uint8Array | null) => void) | undefined;
  readonly #watchdog: CallWatchdog;
  /** Channel handles reserved for the worker's `upstream-open` and not yet seen taken. */
  readonly #handles = new Set<number>();
  #restartTimer: NodeJS.Timeout | undefined;
  /** With a cluster: remote group sizes for the worker's mirror (#12). */
  readonly #remoteSizes: RemoteSizeFeed | undefined;

  /** Sampled call durations (metrics, #11). */
  readonly #timings: CallTimings | undefined;

  constructor(opts: RuntimeOptions) {
    this.spec = opts.spec;
    this.#imports = opts.imports;
    this.#services = opts.services;
    this.#config = opts.config;
    this.#owner = opts.owner;
    this.#health = new HealthState(opts.log);
    this.#policy = new FailurePolicyEnforcer({ policy: opts.failurePolicy, owner: opts.owner, log: opts.log, health: this.#health });
    this.#maxFrameBytes = opts.maxFrameBytes;
    this.#maxOutboundBytes = opts.maxOutboundBytes;
    this.#maxChannelDataBytes = opts.maxChannelDataBytes;
    this.#timings = opts.callTimings;
    this.#remoteSizes = opts.services.openRemoteSizeFeed?.();
    this.#watchdog = new CallWatchdog(this.#ctl, opts.callBudgetMs, (kind, channel, budgetMs) => this.#timedOut(kind, channel, budgetMs));
  }

  get health(): PluginHealth {
    return this.#health.value;
  }

  get generation(): number {
    return this.#generation;
  }

  get memoryBytes(): number {
    return this.#memoryBytes;
  }

  async start(): Promise<void> {
    this.#watchdog.start();
    const started = await this.#spawn();
    if (started.error !== null) {
      this.#closeWorker();
      throw startError(this.spec, started);
    }
    this.#ready(started);
  }

  handleConnect(channel: number, peer: PeerInfo): undefined {
    this.#connected.set(channel, peer);
    this.#enqueue(CALL_CONNECT, channel, encodePeer(peer));
    return undefined;
  }

  handleMsg(channel: number, payload: Uint8Array): void {
    this.#enqueue(CALL_MSG, channel, payload);
  }

  handleBroken(channel: number, reasonCode: number): void {
    this.#connected.delete(channel);
    this.#enqueue(CALL_BROKEN, channel, Uint8Array.of(reasonCode));
  }

  handleTimer(token: bigint, arm: number): void {
    const body = Buffer.alloc(12);
    body.writeBigUInt64LE(token, 0);
    body.writeUInt32LE(arm, 8);
    this.#enqueue(CALL_TIMER, 0, body);
  }

  async stop(): Promise<void> {
    if (this.#phase === 'ready' || this.#phase === 'starting') {
      this.#enqueue(CALL_STOP, 0);
      await this.#drained();
    }
    this.#phase = 'closed';
    this.#closeWorker();
  }

  async detach(withSnapshot: boolean): Promise<Uint8Array | null> {
    this.#detached = true;
    let state: Promise<Uint8Array | null> = Promise.resolve(null);
    if (withSnapshot && this.spec.stateful && this.#phase === 'ready') {
      state = new Promise((resolve) => (this.#onSnapshot = resolve));
      this.#enqueue(CALL_SNAPSHOT, 0);
    }
    await this.#drained();
    this.#phase = 'closed';
    this.#closeWorker();
    this.#onSnapshot?.(null);
    return state;
  }

  restore(state: Uint8Array | Promise<Uint8Array | null>): void {
    // Channels live now are the ones the snapshot knows (the old runtime took no call after this point).
    const live = [...this.#owner.liveChannels()];
    this.#gated = true;
    void Promise.resolve(state).then((bytes) => {
      const front = new RecordWriter();
      // The old runtime has drained: the group index holds every membership it made.
      this.#pushGroupMirror(front);
      if (bytes !== null) {
        front.push(CALL_RESTORE, 0, bytes);
        for (const [ch, peer] of live) {
          this.#connected.set(ch, peer);
          front.push(CALL_ADOPT, ch);
        }
      } else {
        // No state after all (the snapshot failed): tell the instance about the channels instead.
        for (const [ch, peer] of live) {
          this.#connected.set(ch, peer);
          front.push(CALL_CONNECT, ch, encodePeer(peer, true));
        }
      }
      const count = this.#queue.count;
      front.pushRaw(this.#queue.take(), count);
      this.#queue = front;
      this.#gated = false;
      this.#scheduleFlush();
    });
  }

  adoptGroups(oldDrained: Promise<unknown>): void {
    this.#gated = true;
    const open = (): void => {
      const front = new RecordWriter();
      this.#pushGroupMirror(front);
      const count = this.#queue.count;
      front.pushRaw(this.#queue.take(), count);
      this.#queue = front;
      this.#gated = false;
      this.#scheduleFlush();
    };
    void oldDrained.then(open, open);
  }

  // ---------------------------------------------------------------------------------------------

  #enqueue(kind: number, channel: number, body?: Uint8Array): void {
    if (this.#phase === 'failed' || this.#phase === 'closed') return;
    if (this.#phase !== 'ready' && this.#queue.count >= MAX_PLUGIN_PENDING_CALLS) {
      if (kind === CALL_MSG) this.#owner.onChannelFailed(channel);
      return;
    }
    this.#queue.push(kind, channel, body);
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#inflight !== undefined) return;
    this.#flushScheduled = true;
    // setImmediate: every frame read in this poll phase, from every socket, goes in one batch.
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#inflight !== undefined || this.#gated || this.#phase !== 'ready' || this.#queue.count === 0) {
      if (this.#inflight === undefined && this.#queue.count === 0) this.#idle();
      return;
    }
    // A bounded batch: its effects reach the sockets before the next one runs (slow-consumer limits
    // measure what a batch queued, not the whole backlog at once).
    // Written into the worker's request buffer (no batch is in flight, so the worker is not reading
    // it); the view stays the replay copy until the result. Only one record above its size goes in
    // the message.
    const length = this.#queue.takeInto(this.#requests, MAX_WORKER_BATCH_BYTES);
    const bytes = length > 0 ? this.#requests.subarray(0, length) : this.#queue.takeUpTo(MAX_WORKER_BATCH_BYTES);
    this.#inflight = { id: ++this.#batchId, bytes };
    this.#worker!.postMessage({
      type: 'batch',
      id: this.#inflight.id,
      length,
      bytes: length > 0 ? undefined : bytes,
      handles: this.#topUpHandles(),
      queued: this.#queuedOutbound(),
      remoteSizes: this.#remoteSizes?.take(),
    });
  }

  /** Outbound bytes queued now for the watched channels (channel, bytes, …); channels with none stop being watched. */
  #queuedOutbound(): number[] {
    const queued: number[] = [];
    for (const ch of this.#watched) {
      const bytes = this.#services.outboundBytes(ch);
      if (bytes === 0) this.#watched.delete(ch);
      else queued.push(ch, bytes);
    }
    return queued;
  }

  /** Reserves handles until the worker holds `WORKER_UPSTREAM_HANDLE_RESERVE`; returns the new ones. */
  #topUpHandles(): number[] {
    const services = this.#services;
    if (services.upstreamServices.length === 0) return [];
    const fresh: number[] = [];
    while (this.#handles.size < WORKER_UPSTREAM_HANDLE_RESERVE) {
      const h = services.reserveUpstreamHandle();
      this.#handles.add(h);
      fresh.push(h);
    }
    return fresh;
  }

  #releaseHandles(): void {
    for (const h of this.#handles) this.#services.releaseUpstreamHandle(h);
    this.#handles.clear();
  }

  /** Queues the I/O thread's group memberships and channel data for the worker's mirrors. */
  #pushGroupMirror(queue: RecordWriter): void {
    queue.push(CALL_GROUP_MIRROR, 0, encodeMemberships(this.#services.groupMemberships()));
    queue.push(CALL_DATA_MIRROR, 0, encodeChannelData(this.#services.channelData()));
  }

  #idle(): void {
    const f = this.#onIdle;
    this.#onIdle = undefined;
    f?.();
  }

  /** Resolves once every queued call has run (or the plugin can run none any more). */
  #drained(): Promise<void> {
    if (this.#phase !== 'ready' && this.#phase !== 'restarting' && this.#phase !== 'starting') return Promise.resolve();
    if (this.#inflight === undefined && this.#queue.count === 0 && !this.#gated) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#onIdle;
      this.#onIdle = () => {
        previous?.();
        resolve();
      };
      this.#scheduleFlush();
    });
  }

  async #spawn(): Promise<StartedMessage> {
    this.#phase = 'starting';
    this.#generation++;
    this.#services.resetInstanceState(); // timers and upstream channels belong to the instance that armed or opened them
    Atomics.store(this.#ctl, CTL_IN_CALL, 0);
    const entry = await workerEntry();
    if ((this.#phase as Phase) === 'closed') return { type: 'started', error: { name: 'Error', message: 'runtime stopped' }, refused: false, memoryBytes: 0 };
    const worker = new Worker(entry);
    this.#worker = worker;
    // Fresh buffers per worker: one being terminated may still write into its own.
    const requests = new SharedArrayBuffer(WORKER_REQUEST_BUFFER_BYTES);
    const results = new SharedArrayBuffer(WORKER_RESULT_BUFFER_BYTES);
    this.#requests = new Uint8Array(requests);
    this.#results = new Uint8Array(results);
    this.#watchdog.armed = true;
    worker.on('message', (msg: FromWorker) => this.#onMessage(worker, msg));
    worker.on('error', (err) => this.#onWorkerDeath(worker, err));
    worker.on('exit', (code) => this.#onWorkerDeath(worker, new Error(`plugin worker exited with code ${code}`)));
    const started = new Promise<StartedMessage>((resolve) => (this.#onStarted = resolve));
    worker.postMessage({
      type: 'init',
      module: this.spec.module,
      stringEncoding: this.spec.stringEncoding,
      hasPostStart: this.spec.hasPostStart,
      stateful: this.spec.stateful,
      hasPostSnapshot: this.spec.hasPostSnapshot,
      timed: this.spec.timed,
      name: this.spec.name,
      config: this.#config,
      maxFrameBytes: this.#maxFrameBytes,
      maxOutboundBytes: this.#maxOutboundBytes,
      maxChannelDataBytes: this.#maxChannelDataBytes,
      callFuel: this.spec.callFuel,
      ctl: this.#ctlBuffer,
      requests,
      results,
      upstreamServices: this.#services.upstreamServices,
      // A fresh worker: the reserve as this thread knows it (a dead worker's unapplied opens never happened).
      handles: [...this.#handles, ...this.#topUpHandles()],
      remoteSizes: this.#remoteSizes?.all() ?? [],
    });
    return started;
  }

  #ready(started: StartedMessage): void {
    this.#memoryBytes = started.memoryBytes;
    this.#phase = 'ready';
    this.#health.set('ok');
    this.#scheduleFlush();
  }

  #onMessage(worker: Worker, msg: FromWorker): void {
    if (worker !== this.#worker) return;
    if (msg.type === 'started') {
      const f = this.#onStarted;
      this.#onStarted = undefined;
      f?.(msg);
      return;
    }
    this.#onResult(msg);
  }

  /** Hands the batch's sampled call durations (kind, seconds pairs) to the metrics (#11). */
  #recordTimings(timings: readonly number[]): void {
    const sink = this.#timings;
    if (sink === undefined) return;
    for (let i = 0; i + 1 < timings.length; i += 2) {
      const exportName = CALL_EXPORTS[timings[i]];
      if ((TIMED_EXPORTS as readonly string[]).includes(exportName)) sink.record(exportName as TimedExport, timings[i + 1]);
    }
  }

  #onResult(msg: ResultMessage): void {
    const inflight = this.#inflight;
    if (inflight === undefined || inflight.id !== msg.id) return;
    this.#inflight = undefined;
    this.#memoryBytes = msg.memoryBytes;
    this.#recordTimings(msg.timings);
    // The worker writes the result buffer only while it runs a batch, so it holds this one until the next is posted.
    if (msg.effects === undefined) this.#effects.set(this.#results.subarray(0, msg.length), 0);
    this.#applyEffects(msg.effects ?? this.#effects.subarray(0, msg.length));
    if (msg.restCount > 0) {
      // The batch's effects were full: the calls it did not run go first in the next one.
      const front = new RecordWriter();
      front.pushRaw(inflight.bytes.subarray(msg.restOffset), msg.restCount);
      const count = this.#queue.count;
      front.pushRaw(this.#queue.take(), count);
      this.#queue = front;
    }
    if (msg.failedAt >= 0) {
      const calls = decodeCalls(inflight.bytes);
      const failed = calls[msg.failedAt];
      const exportName = CALL_EXPORTS[failed.kind];
      const err =
        msg.error?.code === 'PB_ERR_PLUGIN_OUT_OF_FUEL'
          ? new PluginOutOfFuelError(exportName, this.spec.callFuel)
          : new PluginTrapError(exportName, { cause: fromWire(msg.error) });
      this.#failed(failed.kind, failed.channel, calls.slice(msg.failedAt + 1), err, msg.error);
      return;
    }
    this.#flush();
  }

  #applyEffects(effects: Uint8Array): void {
    const { host, groups } = this.#imports;
    forEachRecord(effects, (r) => {
      switch (r.kind) {
        case EFFECT_SEND:
          host.channelSend(r.channel, r.bytes, r.start, r.end);
          this.#watched.add(r.channel);
          break;
        case EFFECT_OVERFLOW:
          this.#services.overflow(r.channel);
          break;
        case EFFECT_CLOSE:
          host.channelClose(r.channel);
          break;
        case EFFECT_AUTHENTICATE:
          host.channelAuthenticate(r.channel);
          break;
        case EFFECT_SET_DATA:
          // Checked in the worker already; the store takes it while the channel has not ended here.
          host.channelSetData(r.channel, r.bytes, r.start, r.end);
          break;
        case EFFECT_LOG:
          host.log(r.channel, r.body.toString('utf8'));
          break;
        case EFFECT_CONNECT_RESULT:
          if (r.bytes[r.start] === 0) this.#owner.onConnectDecided(r.channel, false);
          break;
        case EFFECT_TIMER_SET:
          this.#services.armTimer(r.body.readBigUInt64LE(0), r.body.readUInt32LE(8), r.body[12] === 1, r.body.readUInt32LE(13));
          break;
        case EFFECT_TIMER_CANCEL:
          this.#services.cancelTimer(r.body.readBigUInt64LE(0));
          break;
        case EFFECT_GROUP_JOIN:
          groups.groupJoin(r.body.toString('utf8'), r.channel);
          break;
        case EFFECT_GROUP_LEAVE:
          groups.groupLeave(r.body.toString('utf8'), r.channel);
          break;
        case EFFECT_GROUP_SEND: {
          const { name, rest } = decodeNamed(r.body);
          groups.groupSend(name, rest, 0, rest.length, r.channel);
          break;
        }
        case EFFECT_UPSTREAM_OPEN: {
          const { name, rest } = decodeNamed(r.body);
          this.#handles.delete(r.channel);
          // The plugin already holds the handle: a refused open ends like a dropped connection.
          if (!this.#services.openUpstreamAs(name, rest.toString('utf8'), r.channel)) this.handleBroken(r.channel, closeReasonCode('peer-closed'));
          break;
        }
        case EFFECT_SNAPSHOT: {
          const f = this.#onSnapshot;
          this.#onSnapshot = undefined;
          f?.(Buffer.from(r.body));
          break;
        }
      }
    });
  }

  #timedOut(kind: number, channel: number, budgetMs: number): void {
    const err = new PluginTimeoutError(CALL_EXPORTS[kind], budgetMs);
    // The worker dies with the effects of the batch's earlier calls: those calls are replayed.
    this.#closeWorker();
    if (kind === CALL_START) {
      const f = this.#onStarted;
      this.#onStarted = undefined;
      f?.({ type: 'started', error: { name: err.name, message: err.message, code: err.code }, refused: false, memoryBytes: 0 });
      return;
    }
    const calls = this.#inflight === undefined ? [] : decodeCalls(this.#inflight.bytes);
    this.#inflight = undefined;
    this.#failed(
      kind,
      channel,
      calls.filter((c) => c.channel !== channel),
      err,
      null,
    );
  }

  #onWorkerDeath(worker: Worker, cause: Error): void {
    if (worker !== this.#worker || this.#phase === 'closed') return;
    this.#worker = undefined;
    if (this.#phase === 'starting') {
      const f = this.#onStarted;
      this.#onStarted = undefined;
      f?.({ type: 'started', error: { name: cause.name, message: cause.message }, refused: false, memoryBytes: 0 });
      return;
    }
    const calls = this.#inflight === undefined ? [] : decodeCalls(this.#inflight.bytes);
    this.#inflight = undefined;
    const kind = this.#ctl[CTL_KIND];
    const channel = Atomics.load(this.#ctl, CTL_IN_CALL) === 1 ? this.#ctl[CTL_CHANNEL] >>> 0 : 0;
    this.#failed(
      kind,
      channel,
      calls.filter((c) => c.channel !== channel || channel === 0),
      new PluginTrapError(CALL_EXPORTS[kind] ?? 'worker', { cause }),
      null,
    );
  }

  /** A call failed: apply the failure policy; `unrun` are the calls to hand the next instance. */
  #failed(kind: number, channel: number, unrun: Call[], err: PluginCallError, wire: WireError | null): void {
    const exportName = CALL_EXPORTS[kind];
    this.#phase = 'restarting';
    const aboutChannel = kind === CALL_MSG || kind === CALL_CONNECT;
    const failedChannel = aboutChannel ? channel : 0;
    if (failedChannel !== 0) this.#connected.delete(failedChannel);
    if (kind === CALL_STOP || kind === CALL_SNAPSHOT || this.#detached) {
      // Shutting down or swapped out: nothing to restart (a swapped-out runtime's failure policy
      // is the new plugin's business).
      this.#policy.report(exportName, failedChannel, err, wire ?? err.cause ?? err);
      this.#onSnapshot?.(null); // a snapshot still queued will not run
      this.#phase = 'closed';
      this.#closeWorker();
      this.#idle();
      return;
    }
    const recovery = this.#policy.failed(exportName, failedChannel, err, wire ?? err.cause ?? err);
    // Calls not run yet, then everything queued since: the fresh instance gets them in order.
    const pending = unrun.concat(decodeCalls(this.#queue.take()));
    if (recovery.action === 'give-up') {
      this.#fail(recovery.error);
      return;
    }
    const timer = scheduleRestart(recovery.delayMs, () => void this.#restart(pending, recovery.resume));
    if (timer !== undefined) this.#restartTimer = timer;
  }

  async #restart(pending: Call[], resume: boolean): Promise<void> {
    if (this.#phase !== 'restarting') return;
    let started: StartedMessage;
    if (this.#worker !== undefined) {
      // A trap leaves the worker healthy: a fresh instance in the same thread is enough.
      this.#generation++;
      this.#services.resetInstanceState();
      started = await new Promise<StartedMessage>((resolve) => {
        this.#onStarted = resolve;
        this.#worker!.postMessage({ type: 'restart' });
      });
    } else {
      started = await this.#spawn();
    }
    if ((this.#phase as Phase) === 'closed') return;
    if (started.error !== null) {
      this.#closeWorker();
      this.#fail(this.#policy.restartFailed(fromWire(started.error)));
      return;
    }
    // Resumed connects for the channels the dead instance knew, then the calls it did not run.
    const live = new Map(this.#owner.liveChannels());
    const replay = planReplay(pending.concat(decodeCalls(this.#queue.take())), this.#connected, live, resume);
    // The fresh instance's group mirror starts from this thread's index (memberships outlive a trap).
    const queue = new RecordWriter();
    this.#pushGroupMirror(queue);
    const count = replay.count;
    queue.pushRaw(replay.take(), count);
    this.#queue = queue;
    this.#ready(started);
    this.#owner.onInstanceReplaced();
  }

  #fail(err: PluginFailedError): void {
    this.#phase = 'failed';
    this.#queue.take();
    this.#connected.clear();
    this.#closeWorker();
    this.#policy.giveUp(err);
    this.#idle();
  }

  #closeWorker(): void {
    clearTimeout(this.#restartTimer);
    const w = this.#worker;
    this.#worker = undefined;
    this.#watchdog.armed = false;
    if (this.#phase === 'closed' || this.#phase === 'failed') {
      this.#watchdog.stop();
      this.#releaseHandles();
      this.#remoteSizes?.close();
    }
    if (w !== undefined) void w.terminate();
  }
}

function fromWire(e: WireError | null): Error {
  const err = new Error(e?.message ?? 'unknown error');
  err.name = e?.name ?? 'Error';
  if (e?.code !== undefined) (err as Error & { code?: string }).code = e.code;
  return err;
}

function startError(spec: PluginSpec, started: StartedMessage): PluginStartError {
  const e = started.error!;
  if (started.refused) return new PluginStartError(`plugin ${spec.name} refused to start: ${e.message}`);
  return new PluginStartError(`plugin ${spec.name} failed in start: ${e.message}`, { cause: fromWire(e) });
}
