/**
 * `PluginHarness`: one plugin component run by the broker's own loader and inline runtime
 * (host/plugin/load, host/plugin/runtime), with no socket and no wall clock. The harness stands
 * where the router, the timer table and the upstream pool stand in `broker serve`: it hands out
 * channel handles, keeps group memberships, delivers group sends, answers `upstream-open` with
 * scripted nodes, keeps per-channel data, and records every host call the plugin makes.
 *
 * Determinism: every plugin call happens inside a harness method (`connect`, `send`, `close`,
 * `advance`); frames a scripted upstream node answers are delivered before that method returns.
 * Nothing waits on a timer or the event loop.
 *
 * No test runner is imported: assertions are the caller's (vitest, node:test, anything).
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { FailurePolicy } from '../config.js';
import { createGroupsInterface, isValidGroupName } from '../host-api/groups.js';
import { createHostInterface } from '../host-api/host.js';
import type { HostImports } from '../host-api/host-imports.js';
import { createTimersInterface } from '../host-api/timers.js';
import { createUpstreamsInterface } from '../host-api/upstreams.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../limits.js';
import { loadPlugin } from '../plugin/load/loader.js';
import type { PluginSpec } from '../plugin/load/plugin-spec.js';
import { InlineRuntime } from '../plugin/runtime/inline-runtime.js';
import type { RuntimeServices } from '../plugin/runtime/runtime-services.js';
import { CLOSE_REASONS, closeReasonCode, type CloseReason, type PeerInfo, type PluginLogLevel } from '../plugin/world.js';
import { FakeClock } from './fake-clock.js';
import type { HostCall, TrapReport } from './host-call.js';

/** A frame as a test writes it: text (UTF-8) or bytes. */
export type FrameInput = string | Uint8Array;

/** A scripted upstream node of one service. */
export interface UpstreamNode {
  /**
   * Called for every frame the plugin sends on one of this service's channels; what it returns is
   * sent back to the plugin on that channel (nothing for `undefined`), after the current call.
   */
  reply?(frame: Buffer, channel: TestChannel): FrameInput | readonly FrameInput[] | undefined;
  /** While true, `upstream-open` of this service returns 0 (every node ejected). */
  down?: boolean;
}

/** Options of `loadTestPlugin`. */
export interface TestPluginOptions {
  /** Text of the plugin's `start(config)` (`--plugin-config`). Default empty. */
  readonly config?: string;
  /** Upstream services the plugin may open, each a scripted node. Others: `upstream-open` returns 0. */
  readonly upstreams?: Readonly<Record<string, UpstreamNode>>;
  /** `--max-frame-bytes`. Default the broker's. */
  readonly maxFrameBytes?: number;
  /** `--plugin-memory-max-mb`. */
  readonly memoryMaxMb?: number;
  /** `--plugin-call-fuel`: steps per call, 0 = none. */
  readonly callFuel?: number;
  /** `--on-plugin-failure`. Default `reload` (a trap restarts the plugin at once and resumes the open channels). */
  readonly failurePolicy?: FailurePolicy;
  /** `--channel-data-max-bytes`. Default 4096. */
  readonly channelDataMaxBytes?: number;
  /** The fake clock's start, ms since the epoch. Default 1 700 000 000 000 (fixed, so runs compare). */
  readonly startMs?: number;
}

/** Peer info a test may choose for `connect`; the rest defaults to a plain TCP peer. */
export interface TestPeer {
  readonly address?: string;
  readonly port?: number;
  readonly transport?: PeerInfo['transport'];
  readonly secure?: boolean;
  /** Handle to give the channel (replay); default the next free one. */
  readonly channel?: number;
}

/** What became of a channel. */
export type ChannelState = 'open' | 'closed';

/** One channel as the test sees it: a client the test connected, or an upstream channel the plugin opened. */
export class TestChannel {
  readonly id: number;
  readonly kind: 'client' | 'upstream';
  /** The upstream service (upstream channels). */
  readonly service: string | undefined;
  /** The peer info `handle-connect` got (client channels). */
  readonly peer: PeerInfo | undefined;
  /** Whether `handle-connect` accepted the channel (always true for upstream channels). */
  accepted = true;
  state: ChannelState = 'open';
  /** The reason the channel ended with (what `handle-broken` was told, or `plugin-failed`). */
  closeReason: CloseReason | undefined;
  /** The plugin called `channel-close` on it. */
  closedByPlugin = false;
  /** The plugin called `channel-authenticate` on it. */
  authenticated = false;
  /** Per-channel data (`channel-set-data`). */
  data: Buffer = Buffer.alloc(0);
  /** Every frame the plugin sent to this channel (directly or through a group), oldest first. */
  readonly frames: Buffer[] = [];
  #taken = 0;
  readonly #harness: PluginHarness;

  /** @internal */
  constructor(harness: PluginHarness, id: number, kind: 'client' | 'upstream', peer?: PeerInfo, service?: string) {
    this.#harness = harness;
    this.id = id;
    this.kind = kind;
    this.peer = peer;
    this.service = service;
  }

  /** The peer sends `frame` to the plugin (`handle-msg`). */
  send(frame: FrameInput): this {
    this.#harness.send(this, frame);
    return this;
  }

  /** The peer goes away: `handle-broken(reason)`. Default `peer-closed`. */
  close(reason: CloseReason = 'peer-closed'): this {
    this.#harness.close(this, reason);
    return this;
  }

  /** Frames the plugin sent since the last `take`/`takeText`, as bytes. */
  take(): Buffer[] {
    const out = this.frames.slice(this.#taken);
    this.#taken = this.frames.length;
    return out;
  }

  /** Frames the plugin sent since the last `take`/`takeText`, as UTF-8 text. */
  takeText(): string[] {
    return this.take().map((f) => f.toString('utf8'));
  }

  /** Every frame the plugin sent to this channel, as UTF-8 text. */
  texts(): string[] {
    return this.frames.map((f) => f.toString('utf8'));
  }
}

/** A plugin log line. */
export interface PluginLogLine {
  readonly level: PluginLogLevel;
  readonly message: string;
}

const DEFAULT_START_MS = 1_700_000_000_000;
const DEFAULT_CHANNEL_DATA_MAX_BYTES = 4096;
/** Most frames scripted upstream nodes may bounce within one harness call: stops a plugin/node ping-pong. */
const MAX_UPSTREAM_BOUNCES = 100_000;

/**
 * Loads the component at `path` (any language) with the broker's loader and starts it.
 * @throws the loader's errors (not a component, another world, forbidden imports), or PluginStartError.
 */
export async function loadTestPlugin(path: string, opts: TestPluginOptions = {}): Promise<PluginHarness> {
  const spec = await loadPlugin(path, { memoryMaxMb: opts.memoryMaxMb, callFuel: opts.callFuel });
  const harness = new PluginHarness(spec, opts);
  await harness.start();
  return harness;
}

export class PluginHarness {
  readonly spec: PluginSpec;
  readonly clock: FakeClock;
  /** Every host call of the plugin, in order (what `broker test --replay` compares). */
  readonly calls: HostCall[] = [];
  /** Traps (and other failed calls), each with the export that was running. */
  readonly traps: TrapReport[] = [];
  /** The plugin's log lines. */
  readonly logs: PluginLogLine[] = [];
  /** Set when the failure policy gave up (fail-closed, or too many restarts): nothing serves any more. */
  failed: string | undefined;

  readonly #opts: TestPluginOptions;
  readonly #runtime: InlineRuntime;
  readonly #channels = new Map<number, TestChannel>();
  readonly #groups = new Map<string, Set<number>>();
  /** Upstream channels of the current instance. */
  readonly #upstreamIds = new Set<number>();
  /** Frames from scripted nodes waiting for the current call to return: [channel, frame]. */
  #inbound: [TestChannel, Buffer][] = [];
  #nextHandle = 1;
  #nextPort = 40_000;
  #delivering = false;
  /** Handles `upstream-open` returns next (replay), before the next free ones. */
  readonly #presetUpstreamHandles: number[] = [];

  /** @internal Use `loadTestPlugin`. */
  constructor(spec: PluginSpec, opts: TestPluginOptions) {
    this.spec = spec;
    this.#opts = opts;
    this.clock = new FakeClock(opts.startMs ?? DEFAULT_START_MS);
    const log = pino({ level: 'trace' }, new Writable({ write: (chunk: Buffer, _enc, done) => (this.#onRuntimeLog(chunk), done()) }));
    this.#runtime = new InlineRuntime({
      spec,
      imports: this.#imports(),
      services: this.#services(),
      config: opts.config ?? '',
      log,
      maxChannelDataBytes: opts.channelDataMaxBytes ?? DEFAULT_CHANNEL_DATA_MAX_BYTES,
      owner: {
        onChannelFailed: (channel) => this.#ended(channel, 'plugin-failed'),
        onConnectDecided: (channel, accepted) => {
          const ch = this.#channels.get(channel);
          if (!accepted && ch !== undefined && ch.state === 'open') {
            ch.accepted = false;
            this.#endWithBroken(ch, 'refused-by-plugin');
          }
        },
        liveChannels: () => this.#liveClientChannels(),
        onInstanceReplaced: () => {},
        onPluginFailed: (err) => {
          this.failed = err.message;
          for (const ch of this.#channels.values()) if (ch.state === 'open') this.#ended(ch.id, 'plugin-failed');
        },
      },
      failurePolicy: opts.failurePolicy ?? 'reload',
      callBudgetMs: 0,
      maxFrameBytes: opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      maxOutboundBytes: Number.MAX_SAFE_INTEGER,
    });
  }

  /** @internal */
  async start(): Promise<void> {
    await this.#runtime.start();
  }

  /** Increases each time the plugin is instantiated afresh (after a trap). */
  get generation(): number {
    return this.#runtime.generation;
  }

  /** The plugin's health: `ok`, `restarting` or `failed`. */
  get health(): string {
    return this.#runtime.health;
  }

  /** A channel by handle. */
  channel(id: number): TestChannel | undefined {
    return this.#channels.get(id);
  }

  /** Every channel so far (clients and upstreams), in handle order. */
  channels(): TestChannel[] {
    return [...this.#channels.values()];
  }

  /** The upstream channels the plugin opened to `service`, oldest first. */
  upstreamChannels(service: string): TestChannel[] {
    return this.channels().filter((c) => c.kind === 'upstream' && c.service === service);
  }

  /** Members of `group`, in joining order. */
  groupMembers(group: string): number[] {
    return [...(this.#groups.get(group) ?? [])];
  }

  /**
   * A client connects: `handle-connect` with the chosen peer info. The channel is returned either
   * way; `accepted` is false (and it is closed `refused-by-plugin`) when the plugin refused it.
   */
  connect(peer: TestPeer = {}): TestChannel {
    const id = peer.channel ?? this.#nextHandle;
    if (this.#channels.has(id)) throw new Error(`connect: channel ${id} is already in use`);
    this.#nextHandle = Math.max(this.#nextHandle, id + 1);
    const info: PeerInfo = {
      address: peer.address ?? '127.0.0.1',
      port: peer.port ?? this.#nextPort++,
      transport: peer.transport ?? 'tcp',
      secure: peer.secure ?? false,
      resumed: false,
    };
    const ch = new TestChannel(this, id, 'client', info);
    this.#channels.set(id, ch);
    this.#deliver(() => {
      const accepted = this.#runtime.handleConnect(id, info);
      if (!accepted && ch.state === 'open') {
        ch.accepted = false;
        this.#endWithBroken(ch, 'refused-by-plugin');
      }
    });
    return ch;
  }

  /** The peer of `channel` sends `frame` (`handle-msg`). */
  send(channel: TestChannel | number, frame: FrameInput): void {
    const ch = this.#open(channel, 'send');
    const bytes = toBytes(frame);
    this.#deliver(() => this.#runtime.handleMsg(ch.id, bytes));
  }

  /** The peer of `channel` goes away (`handle-broken(reason)`). */
  close(channel: TestChannel | number, reason: CloseReason = 'peer-closed'): void {
    if (!CLOSE_REASONS.includes(reason)) throw new Error(`close: unknown close reason ${String(reason)}`);
    const ch = this.#open(channel, 'close');
    this.#deliver(() => this.#endWithBroken(ch, reason));
  }

  /** Moves the fake clock forward by `ms`, firing the timers that fall due (`handle-timer`), in order. */
  advance(ms: number): void {
    this.#deliver(() => this.clock.advance(ms, (token) => this.#runtime.handleTimer(token, 0)));
  }

  /** Handles the next `upstream-open` calls return (replay); default the next free handles. */
  presetUpstreamHandles(handles: readonly number[]): void {
    this.#presetUpstreamHandles.push(...handles);
  }

  /** `stop()`: every open channel gets `handle-broken(shutdown)`, then the plugin's `stop`. */
  async stop(): Promise<void> {
    this.#deliver(() => {
      for (const ch of this.#channels.values()) if (ch.state === 'open' && ch.kind === 'client') this.#endWithBroken(ch, 'shutdown');
    });
    await this.#runtime.stop();
  }

  #open(channel: TestChannel | number, what: string): TestChannel {
    const id = typeof channel === 'number' ? channel : channel.id;
    const ch = this.#channels.get(id);
    if (ch === undefined) throw new Error(`${what}: no channel ${id}`);
    if (ch.state !== 'open') throw new Error(`${what}: channel ${id} is closed (${ch.closeReason ?? 'unknown'})`);
    return ch;
  }

  /** Runs `call`, then delivers what scripted upstream nodes answered, until nothing is left. */
  #deliver(call: () => void): void {
    if (this.#delivering) throw new Error('PluginHarness: re-entrant call (from inside an upstream reply?)');
    this.#delivering = true;
    try {
      call();
      let bounces = 0;
      while (this.#inbound.length > 0) {
        if (++bounces > MAX_UPSTREAM_BOUNCES) throw new Error(`more than ${MAX_UPSTREAM_BOUNCES} upstream frames in one step: plugin and node loop`);
        const [ch, frame] = this.#inbound.shift()!;
        if (ch.state === 'open') this.#runtime.handleMsg(ch.id, frame);
      }
    } finally {
      this.#delivering = false;
    }
  }

  /** Channel ends with `handle-broken(reason)`: it leaves its groups first, its data goes after. */
  #endWithBroken(ch: TestChannel, reason: CloseReason): void {
    if (ch.state !== 'open') return;
    this.#leaveAll(ch.id);
    ch.state = 'closed';
    ch.closeReason = reason;
    this.#upstreamIds.delete(ch.id);
    this.#runtime.handleBroken(ch.id, closeReasonCode(reason));
    ch.data = Buffer.alloc(0);
  }

  /** Channel ends without `handle-broken` (its call failed, or its instance is gone). */
  #ended(channel: number, reason: CloseReason): void {
    const ch = this.#channels.get(channel);
    if (ch === undefined || ch.state !== 'open') return;
    this.#leaveAll(channel);
    ch.state = 'closed';
    ch.closeReason = reason;
    ch.data = Buffer.alloc(0);
    this.#upstreamIds.delete(channel);
  }

  #leaveAll(channel: number): void {
    for (const [name, members] of this.#groups) {
      members.delete(channel);
      if (members.size === 0) this.#groups.delete(name);
    }
  }

  *#liveClientChannels(): Iterable<readonly [number, PeerInfo]> {
    for (const ch of this.#channels.values()) {
      if (ch.state === 'open' && ch.kind === 'client' && ch.peer !== undefined) yield [ch.id, { ...ch.peer, resumed: true }];
    }
  }

  #live(channel: number): TestChannel | undefined {
    const ch = this.#channels.get(channel);
    return ch !== undefined && ch.state === 'open' ? ch : undefined;
  }

  /** A frame for `ch`: kept, and handed to its scripted node when it is an upstream channel. */
  #deliverTo(ch: TestChannel, frame: Buffer): void {
    ch.frames.push(frame);
    if (ch.kind !== 'upstream' || ch.service === undefined) return;
    const answer = this.#opts.upstreams?.[ch.service]?.reply?.(frame, ch);
    if (answer === undefined) return;
    const list = typeof answer === 'string' || answer instanceof Uint8Array ? [answer] : (answer as readonly FrameInput[]);
    for (const a of list) this.#inbound.push([ch, Buffer.from(toBytes(a))]);
  }

  #onRuntimeLog(chunk: Buffer): void {
    let entry: { code?: string; export?: string; channel?: number; msg?: string };
    try {
      entry = JSON.parse(chunk.toString('utf8')) as typeof entry;
    } catch {
      return;
    }
    if (entry.code === 'PB_ERR_PLUGIN_TRAP' || entry.code === 'PB_ERR_PLUGIN_OUT_OF_FUEL' || entry.code === 'PB_ERR_PLUGIN_BAD_POINTER') {
      this.traps.push({ export: entry.export ?? 'unknown', channel: entry.channel ?? 0, code: entry.code, message: entry.msg ?? '' });
    }
  }

  #imports(): HostImports {
    const limits = {
      maxFrameBytes: this.#opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      maxChannelDataBytes: this.#opts.channelDataMaxBytes ?? DEFAULT_CHANNEL_DATA_MAX_BYTES,
    };
    const calls = this.calls;
    const host = createHostInterface(
      {
        send: (channel, src, start, end) => {
          const ch = this.#live(channel);
          const ok = ch !== undefined && !ch.closedByPlugin;
          const payload = Buffer.from(src.subarray(start, end));
          calls.push({ call: 'channel-send', channel, payload, result: ok });
          if (ok) this.#deliverTo(ch, payload);
          return ok;
        },
        close: (channel) => {
          calls.push({ call: 'channel-close', channel });
          const ch = this.#live(channel);
          if (ch === undefined || ch.closedByPlugin) return;
          ch.closedByPlugin = true;
          // handle-broken(closed-by-plugin) follows once the current call returned (the runtime defers it).
          this.#endWithBroken(ch, 'closed-by-plugin');
        },
        authenticate: (channel) => {
          const ch = this.#live(channel);
          const ok = ch !== undefined && ch.kind === 'client';
          calls.push({ call: 'channel-authenticate', channel, result: ok });
          if (ok) ch.authenticated = true;
          return ok;
        },
        log: (level, message) => {
          calls.push({ call: 'log', level, message });
          this.logs.push({ level, message });
        },
        // Per-channel data (#13 §1), kept here as the broker keeps it: it survives a trap. The size
        // limit is checked by createHostInterface, as in the broker.
        setData: (channel, src, start, end) => {
          const ch = this.#live(channel);
          const data = Buffer.from(src.subarray(start, end));
          const ok = ch !== undefined && !(ch.closeReason !== undefined && !ch.closedByPlugin);
          calls.push({ call: 'channel-set-data', channel, payload: data, result: ok });
          if (ok) ch.data = data;
          return ok;
        },
        getData: (channel) => {
          const data = this.#channels.get(channel)?.data ?? Buffer.alloc(0);
          calls.push({ call: 'channel-get-data', channel, payload: Buffer.from(data) });
          return data.length === 0 ? undefined : data;
        },
      },
      limits,
    );
    const imports: HostImports = {
      host: { ...host, nowMs: () => BigInt(Math.floor(this.clock.nowMs)) },
      groups: createGroupsInterface(
        {
          join: (group, channel) => {
            const ok = this.#live(channel) !== undefined;
            if (ok) {
              let members = this.#groups.get(group);
              if (members === undefined) this.#groups.set(group, (members = new Set()));
              members.add(channel);
            }
            calls.push({ call: 'group-join', group, channel, result: ok });
            return ok;
          },
          leave: (group, channel) => {
            const members = this.#groups.get(group);
            const ok = members?.delete(channel) === true;
            if (members?.size === 0) this.#groups.delete(group);
            calls.push({ call: 'group-leave', group, channel, result: ok });
            return ok;
          },
          send: (group, src, start, end, except) => {
            const payload = Buffer.from(src.subarray(start, end));
            let delivered = 0;
            for (const member of this.#groups.get(group) ?? []) {
              const ch = this.#live(member);
              if (member === except || ch === undefined) continue;
              this.#deliverTo(ch, payload);
              delivered++;
            }
            calls.push({ call: 'group-send', group, payload, except, result: delivered });
            return delivered;
          },
          size: (group) => this.#groups.get(group)?.size ?? 0,
        },
        limits,
      ),
      timers: createTimersInterface(
        {
          set: (token, delayMs, repeat) => {
            const ok = this.clock.set(token, delayMs, repeat);
            calls.push({ call: 'timer-set', token: token.toString(), delayMs, repeat, result: ok });
            return ok;
          },
          cancel: (token) => {
            const ok = this.clock.cancel(token);
            calls.push({ call: 'timer-cancel', token: token.toString(), result: ok });
            return ok;
          },
        },
        { timed: this.spec.timed },
      ),
      upstreams: createUpstreamsInterface({
        open: (service, key) => {
          const node = this.#opts.upstreams?.[service];
          let id = 0;
          if (node !== undefined && node.down !== true) {
            id = this.#presetUpstreamHandles.shift() ?? this.#nextHandle;
            this.#nextHandle = Math.max(this.#nextHandle, id + 1);
            this.#channels.set(id, new TestChannel(this, id, 'upstream', undefined, service));
            this.#upstreamIds.add(id);
          }
          calls.push({ call: 'upstream-open', service, key, result: id });
          return id;
        },
      }),
    };
    void isValidGroupName; // names are checked by createGroupsInterface
    return imports;
  }

  #services(): RuntimeServices {
    return {
      resetInstanceState: () => {
        // Timers and upstream channels belong to the instance that armed or opened them.
        this.clock.clear();
        for (const id of this.#upstreamIds) this.#ended(id, 'plugin-failed');
        this.#upstreamIds.clear();
      },
      groupMemberships: () => [...this.#groups],
      upstreamServices: Object.keys(this.#opts.upstreams ?? {}),
      reserveUpstreamHandle: () => this.#nextHandle++,
      releaseUpstreamHandle: () => {},
      openUpstreamAs: () => false,
      armTimer: (token, delayMs, repeat) => this.clock.set(token, delayMs, repeat),
      cancelTimer: (token) => this.clock.cancel(token),
      outboundBytes: () => 0,
      overflow: () => {},
      channelData: () => [...this.#channels].filter(([, ch]) => ch.data.length > 0).map(([id, ch]) => [id, ch.data] as const),
    };
  }
}

function toBytes(frame: FrameInput): Uint8Array {
  return typeof frame === 'string' ? Buffer.from(frame, 'utf8') : frame;
}
