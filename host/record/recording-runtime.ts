/**
 * The recording hook (`broker serve --record`): a `PluginRuntime` decorator that writes every event
 * before handing it on, and a `HostImports` decorator that writes every host call with its result.
 * The broker puts both in place only when `--record` is set, so the message path is untouched
 * otherwise. In worker isolation the host calls are the effects the I/O thread applies (after the
 * call that made them), and `channel-get-data` is answered inside the worker, so it is not recorded.
 */
import type { HostImports } from '../host-api/host-imports.js';
import type { PluginRuntime } from '../plugin/runtime/runtime.js';
import { CLOSE_REASONS, PLUGIN_LOG_LEVELS, type PeerInfo } from '../plugin/world.js';
import type { SessionRecorder } from './recorder.js';

/** `imports` with every call written to `rec`. */
export function recordingImports(imports: HostImports, rec: SessionRecorder): HostImports {
  const { host, groups, timers, upstreams } = imports;
  return {
    host: {
      channelSend(channel, src, start, end) {
        const result = host.channelSend(channel, src, start, end);
        rec.call({ t: 'call', call: 'channel-send', channel, ...rec.payload(src, start, end), result });
        return result;
      },
      channelClose(channel) {
        rec.call({ t: 'call', call: 'channel-close', channel });
        host.channelClose(channel);
      },
      channelAuthenticate(channel) {
        const result = host.channelAuthenticate(channel);
        rec.call({ t: 'call', call: 'channel-authenticate', channel, result });
        return result;
      },
      log(level, message) {
        host.log(level, message); // throws for a bad level: then nothing is recorded, as nothing happened
        rec.call({ t: 'call', call: 'log', level: PLUGIN_LOG_LEVELS[level], message });
      },
      nowMs: () => host.nowMs(),
      channelSetData(channel, src, start, end) {
        const result = host.channelSetData(channel, src, start, end);
        rec.call({ t: 'call', call: 'channel-set-data', channel, ...rec.payload(src, start, end), result });
        return result;
      },
      channelGetData(channel) {
        const data = host.channelGetData(channel);
        rec.call({ t: 'call', call: 'channel-get-data', channel, ...rec.payload(data) });
        return data;
      },
    },
    groups: {
      groupJoin(group, channel) {
        const result = groups.groupJoin(group, channel);
        rec.call({ t: 'call', call: 'group-join', group, channel, result });
        return result;
      },
      groupLeave(group, channel) {
        const result = groups.groupLeave(group, channel);
        rec.call({ t: 'call', call: 'group-leave', group, channel, result });
        return result;
      },
      groupSend(group, src, start, end, except) {
        const result = groups.groupSend(group, src, start, end, except);
        rec.call({ t: 'call', call: 'group-send', group, ...rec.payload(src, start, end), except, result });
        return result;
      },
      groupSize: (group) => groups.groupSize(group),
    },
    timers: {
      timerSet(token, delayMs, repeat) {
        const result = timers.timerSet(token, delayMs, repeat);
        rec.call({ t: 'call', call: 'timer-set', token: token.toString(), delayMs, repeat, result });
        return result;
      },
      timerCancel(token) {
        const result = timers.timerCancel(token);
        rec.call({ t: 'call', call: 'timer-cancel', token: token.toString(), result });
        return result;
      },
    },
    upstreams: {
      upstreamOpen(service, key) {
        const result = upstreams.upstreamOpen(service, key);
        rec.call({ t: 'call', call: 'upstream-open', service, key, result });
        return result;
      },
    },
  };
}

/** `inner` with every event written to `rec` before it is handed on. */
export class RecordingRuntime implements PluginRuntime {
  readonly #inner: PluginRuntime;
  readonly #rec: SessionRecorder;
  readonly adoptGroups?: (oldDrained: Promise<unknown>) => void;

  constructor(inner: PluginRuntime, rec: SessionRecorder) {
    this.#inner = inner;
    this.#rec = rec;
    if (inner.adoptGroups !== undefined) this.adoptGroups = (oldDrained) => inner.adoptGroups!(oldDrained);
  }

  get spec(): PluginRuntime['spec'] {
    return this.#inner.spec;
  }
  get isolation(): PluginRuntime['isolation'] {
    return this.#inner.isolation;
  }
  get health(): PluginRuntime['health'] {
    return this.#inner.health;
  }
  get generation(): number {
    return this.#inner.generation;
  }
  get memoryBytes(): number {
    return this.#inner.memoryBytes;
  }

  start(): Promise<void> {
    return this.#inner.start();
  }

  handleConnect(channel: number, peer: PeerInfo): boolean | undefined {
    this.#rec.event({
      t: 'connect',
      ms: this.#rec.now(),
      ch: channel,
      peer: { address: peer.address, port: peer.port, transport: peer.transport, secure: peer.secure, resumed: peer.resumed },
    });
    return this.#inner.handleConnect(channel, peer);
  }

  handleMsg(channel: number, payload: Uint8Array): void {
    const p = this.#rec.payload(payload);
    this.#rec.event({ t: 'msg', ms: this.#rec.now(), ch: channel, ...(p.payload === undefined ? {} : { data: p.payload }), bytes: p.bytes });
    this.#inner.handleMsg(channel, payload);
  }

  handleBroken(channel: number, reasonCode: number): void {
    this.#rec.event({ t: 'broken', ms: this.#rec.now(), ch: channel, reason: CLOSE_REASONS[reasonCode] ?? 'peer-closed' });
    this.#inner.handleBroken(channel, reasonCode);
  }

  handleTimer(token: bigint, arm: number): void {
    this.#rec.event({ t: 'timer', ms: this.#rec.now(), token: token.toString() });
    this.#inner.handleTimer(token, arm);
  }

  stop(): Promise<void> {
    return this.#inner.stop();
  }

  detach(withSnapshot: boolean): Promise<Uint8Array | null> {
    return this.#inner.detach(withSnapshot);
  }

  restore(state: Uint8Array | Promise<Uint8Array | null>): void {
    this.#inner.restore(state);
  }
}
