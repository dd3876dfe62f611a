/**
 * Timer firings racing `timer-cancel` and re-arms (#15), in both isolation modes: the `router`
 * fixture in a real runtime (inline, or a real worker thread), its timers in a real `TimerTable`
 * driven by fake time, so a firing can be made due exactly while the plugin's cancel or re-arm is
 * on its way (in a worker: queued in the same batch, behind the call that cancels or re-arms).
 * No socket: frames the plugin sends are captured.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { createGroupsInterface } from '../../host/host-api/groups.js';
import { createHostInterface } from '../../host/host-api/host.js';
import type { HostImports } from '../../host/host-api/host-imports.js';
import { createTimersInterface, tableTimersTarget } from '../../host/host-api/timers.js';
import { createUpstreamsInterface } from '../../host/host-api/upstreams.js';
import { loadPlugin } from '../../host/plugin/load/loader.js';
import { createRuntime, type PluginRuntime, type RuntimeOwner } from '../../host/plugin/runtime/runtime.js';
import type { RuntimeServices } from '../../host/plugin/runtime/runtime-services.js';
import type { PeerInfo } from '../../host/plugin/world.js';
import { TimerTable } from '../../host/routing/timers.js';
import { fixture } from '../helpers/paths.js';

const CH = 1;
const PEER: PeerInfo = { address: '127.0.0.1', port: 1, transport: 'tcp', secure: false, resumed: false };

const setTimer = (token: bigint, delayMs: number, repeat = false): Buffer => {
  const b = Buffer.alloc(14);
  b.write('t', 0);
  b.writeBigUInt64LE(token, 1);
  b.writeUInt32LE(delayMs, 9);
  b[13] = repeat ? 1 : 0;
  return b;
};
const cancelTimer = (token: bigint): Buffer => {
  const b = Buffer.alloc(9);
  b.write('x', 0);
  b.writeBigUInt64LE(token, 1);
  return b;
};
const isTimerFrame = (f: Buffer): boolean => f.length === 9 && f[0] === 0x54;

/** A runtime over the router fixture whose frames to `CH` are captured. */
async function startRuntime(isolation: 'inline' | 'worker'): Promise<{ rt: PluginRuntime; frames: Buffer[]; next(): Promise<Buffer> }> {
  const spec = await loadPlugin(fixture('router'));
  const frames: Buffer[] = [];
  let read = 0;
  let wake: (() => void) | undefined;
  let runtime: PluginRuntime | undefined;
  const table = new TimerTable((token, arm) => runtime?.handleTimer(token, arm));
  const none = (): 0 => 0;
  const imports: HostImports = {
    host: createHostInterface(
      {
        send(_ch, src, start, end) {
          frames.push(Buffer.from(src.subarray(start, end)));
          wake?.();
          return true;
        },
        close() {},
        authenticate: () => true,
        setData: () => false,
        getData: () => undefined,
        log() {},
      },
      { maxFrameBytes: 1 << 20, maxChannelDataBytes: 4096 },
    ),
    groups: createGroupsInterface({ join: () => false, leave: () => false, send: none, size: none }, { maxFrameBytes: 1 << 20 }),
    timers: createTimersInterface(tableTimersTarget(table), { timed: spec.timed }),
    upstreams: createUpstreamsInterface({ open: none }),
  };
  const services: RuntimeServices = {
    resetInstanceState: () => table.clear(),
    groupMemberships: () => [],
    channelData: () => [],
    upstreamServices: [],
    reserveUpstreamHandle: none,
    releaseUpstreamHandle() {},
    openUpstreamAs: () => false,
    armTimer: (token, delayMs, repeat, arm) => table.set(token, delayMs, repeat, arm),
    cancelTimer: (token) => table.cancel(token),
    outboundBytes: none,
    overflow() {},
  };
  const owner: RuntimeOwner = {
    onChannelFailed() {},
    onConnectDecided() {},
    liveChannels: () => [[CH, { ...PEER, resumed: true }]],
    onInstanceReplaced() {},
    onPluginFailed() {},
  };
  runtime = await createRuntime(isolation, {
    spec,
    imports,
    services,
    config: '',
    log: pino({ level: 'silent' }),
    owner,
    failurePolicy: 'reload',
    callBudgetMs: 5000,
    maxChannelDataBytes: 4096,
    maxFrameBytes: 1 << 20,
    maxOutboundBytes: 8 << 20,
  });
  await runtime.start();
  runtime.handleConnect(CH, PEER);
  /** The next frame the plugin sent; waits on real time (setImmediate), which fake timers leave alone. */
  const next = async (): Promise<Buffer> => {
    const deadline = performance.now() + 10_000;
    while (read >= frames.length) {
      if (performance.now() > deadline) throw new Error(`no frame after ${read}: ${frames.map((f) => f.toString('hex')).join(' ')}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setImmediate(resolve);
      });
    }
    return frames[read++];
  };
  return { rt: runtime, frames, next };
}

describe.each(['inline', 'worker'] as const)('timer firings racing cancel and re-arm (%s isolation) (#15)', (isolation) => {
  let rt: PluginRuntime | undefined;
  beforeEach(() => void vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }));
  afterEach(async () => {
    vi.useRealTimers();
    await rt?.stop();
    rt = undefined;
  });

  it('never delivers a firing that became due after timer-cancel returned true', async () => {
    const h = await startRuntime(isolation);
    rt = h.rt;
    for (const token of [1n, 2n, 3n, 4n, 5n]) {
      rt.handleMsg(CH, setTimer(token, 10));
      expect((await h.next())[0]).toBe(1);
    }
    // Each cancel is queued, then its timer comes due at once: in a worker the firing travels in
    // the same batch, right behind the cancel.
    for (const token of [1n, 2n, 3n, 4n, 5n]) rt.handleMsg(CH, cancelTimer(token));
    vi.advanceTimersByTime(10);
    rt.handleMsg(CH, Buffer.from('after'));
    for (let i = 0; i < 5; i++) expect((await h.next())[0]).toBe(1); // every cancel found its timer armed
    expect((await h.next()).toString()).toBe('after');
    vi.advanceTimersByTime(1000);
    rt.handleMsg(CH, Buffer.from('end'));
    expect((await h.next()).toString()).toBe('end');
    expect(h.frames.filter(isTimerFrame)).toHaveLength(0);
  });

  it('stops a repeating timer at the cancel, even with a firing due behind it', async () => {
    const h = await startRuntime(isolation);
    rt = h.rt;
    rt.handleMsg(CH, setTimer(7n, 10, true));
    expect((await h.next())[0]).toBe(1);
    vi.advanceTimersByTime(10);
    expect(isTimerFrame(await h.next())).toBe(true);
    rt.handleMsg(CH, cancelTimer(7n));
    vi.advanceTimersByTime(10);
    expect((await h.next())[0]).toBe(1);
    vi.advanceTimersByTime(100);
    rt.handleMsg(CH, Buffer.from('after'));
    expect((await h.next()).toString()).toBe('after');
    expect(h.frames.filter(isTimerFrame)).toHaveLength(1);
  });

  it('keeps the entry of a one-shot re-armed as its first arming fires', async () => {
    const h = await startRuntime(isolation);
    rt = h.rt;
    rt.handleMsg(CH, setTimer(9n, 10));
    expect((await h.next())[0]).toBe(1);
    rt.handleMsg(CH, setTimer(9n, 1000)); // re-armed while the first arming comes due
    vi.advanceTimersByTime(10);
    expect((await h.next())[0]).toBe(1);
    rt.handleMsg(CH, cancelTimer(9n));
    expect((await h.next())[0]).toBe(1); // still armed: the first arming's firing did not consume it
    vi.advanceTimersByTime(5000);
    rt.handleMsg(CH, Buffer.from('after'));
    expect((await h.next()).toString()).toBe('after');
    expect(h.frames.filter(isTimerFrame)).toHaveLength(0);
  });

  it('fires a one-shot re-armed as it fires once, for the new arming', async () => {
    const h = await startRuntime(isolation);
    rt = h.rt;
    rt.handleMsg(CH, setTimer(9n, 10));
    expect((await h.next())[0]).toBe(1);
    rt.handleMsg(CH, setTimer(9n, 50));
    vi.advanceTimersByTime(10);
    expect((await h.next())[0]).toBe(1);
    vi.advanceTimersByTime(50);
    const fired = await h.next();
    expect(isTimerFrame(fired)).toBe(true);
    expect(fired.readBigUInt64LE(1)).toBe(9n);
    vi.advanceTimersByTime(5000);
    rt.handleMsg(CH, cancelTimer(9n));
    expect((await h.next())[0]).toBe(0); // it fired: no longer armed
    expect(h.frames.filter(isTimerFrame)).toHaveLength(1);
  });
});
