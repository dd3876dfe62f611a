import { describe, expect, it } from 'vitest';
import { EffectRecorder } from '../../../../host/plugin/worker/effect-recorder.js';
import {
  EFFECT_CLOSE,
  EFFECT_GROUP_JOIN,
  EFFECT_LOG,
  EFFECT_OVERFLOW,
  EFFECT_SEND,
  EFFECT_TIMER_SET,
  forEachRecord,
} from '../../../../host/plugin/worker/worker-protocol.js';

const bytes = (n: number): Buffer => Buffer.alloc(n, 0x61);

function recorder(maxOutboundBytes = 100, timed = true): EffectRecorder {
  return new EffectRecorder({ maxFrameBytes: 64, maxOutboundBytes, timed, upstreamServices: ['logic'], maxChannelDataBytes: 16 });
}

/** The effects recorded so far, as [kind, channel] pairs (taken: the recorder starts empty again). */
function kinds(r: EffectRecorder): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  forEachRecord(r.effects.take(), (rec) => void out.push([rec.kind, rec.channel]));
  return out;
}

/** The arm tag of the last timer-set effect in `r`. */
function lastArm(r: EffectRecorder): number {
  let arm = -1;
  forEachRecord(r.effects.take(), (rec) => {
    if (rec.kind === EFFECT_TIMER_SET) arm = rec.body.readUInt32LE(13);
  });
  return arm;
}

describe('EffectRecorder (the host imports inside a plugin worker)', () => {
  it('answers channel-send from its view of the channels: false for unknown, refused and closed ones', () => {
    const r = recorder();
    const send = (ch: number): boolean => r.imports.host.channelSend(ch, bytes(4), 0, 4);
    expect(send(1)).toBe(false);
    r.channelConnected(1);
    expect(send(1)).toBe(true);
    r.imports.host.channelClose(1);
    expect(send(1)).toBe(false);
    r.channelConnected(2);
    r.channelRefused(2);
    expect(send(2)).toBe(false);
    expect(kinds(r)).toEqual([
      [EFFECT_SEND, 1],
      [EFFECT_CLOSE, 1],
    ]);
  });

  it('runs the same argument checks as inline: frame size, log level, group names', () => {
    const r = recorder();
    r.channelConnected(1);
    expect(r.imports.host.channelSend(1, bytes(65), 0, 65)).toBe(false);
    expect(() => r.imports.host.log(9, 'x')).toThrow(expect.objectContaining({ code: 'PB_ERR_PLUGIN_BAD_ARGUMENT' }));
    expect(r.imports.groups.groupJoin('', 1)).toBe(false);
    expect(r.imports.groups.groupJoin('x'.repeat(257), 1)).toBe(false);
    expect(r.imports.groups.groupJoin('room', 1)).toBe(true);
    expect(r.imports.upstreams.upstreamOpen('', 'k')).toBe(0);
    r.imports.host.log(2, 'hello');
    expect(kinds(r)).toEqual([
      [EFFECT_GROUP_JOIN, 1],
      [EFFECT_LOG, 2],
    ]);
  });

  it('returns false once this batch would queue more than maxOutboundBytes for a peer, and closes it (#15)', () => {
    const r = recorder(100);
    r.channelConnected(1);
    r.channelConnected(2);
    r.beginBatch([]);
    // "50\n" + 50 bytes = 53 per frame: one fits under 100, two do not.
    expect(r.imports.host.channelSend(1, bytes(50), 0, 50)).toBe(true);
    expect(r.imports.host.channelSend(1, bytes(50), 0, 50)).toBe(false);
    expect(r.imports.host.channelSend(1, bytes(1), 0, 1)).toBe(false); // closed now, as inline
    expect(r.imports.host.channelSend(2, bytes(50), 0, 50)).toBe(true); // other peers are not affected
    expect(kinds(r)).toEqual([
      [EFFECT_SEND, 1],
      [EFFECT_OVERFLOW, 1],
      [EFFECT_SEND, 2],
    ]);
  });

  it('counts what the I/O thread reported queued for the peer at the batch start (#15)', () => {
    const r = recorder(100);
    r.channelConnected(1);
    r.beginBatch([1, 90]);
    expect(r.imports.host.channelSend(1, bytes(5), 0, 5)).toBe(true); // 90 + "5\n" + 5 = 97
    expect(r.imports.host.channelSend(1, bytes(5), 0, 5)).toBe(false); // 104
    r.channelConnected(3);
    r.beginBatch([3, 95]);
    expect(r.imports.host.channelSend(3, bytes(5), 0, 5)).toBe(false); // 95 + 7 = 102
    r.channelConnected(4);
    r.beginBatch([]); // a fresh batch: nothing reported, nothing queued yet
    expect(r.imports.host.channelSend(4, bytes(50), 0, 50)).toBe(true);
  });

  it('tags each arming and delivers only firings of the current one (#15)', () => {
    const r = recorder();
    expect(r.imports.timers.timerSet(7n, 10, false)).toBe(true);
    const first = lastArm(r);
    expect(r.imports.timers.timerSet(7n, 10, false)).toBe(true); // re-armed
    const second = lastArm(r);
    expect(second).not.toBe(first);
    expect(r.timerFiring(7n, first)).toBe(false); // the replaced arming's firing
    expect(r.imports.timers.timerCancel(7n)).toBe(true); // the entry survived it
    expect(r.timerFiring(7n, second)).toBe(false); // cancelled
    expect(r.imports.timers.timerSet(8n, 10, true)).toBe(true);
    const repeating = lastArm(r);
    expect(r.timerFiring(8n, repeating)).toBe(true);
    expect(r.timerFiring(8n, repeating)).toBe(true);
    expect(r.imports.timers.timerCancel(8n)).toBe(true);
    expect(r.timerFiring(8n, repeating)).toBe(false);
    expect(r.imports.timers.timerSet(9n, 10, false)).toBe(true);
    const oneShot = lastArm(r);
    expect(r.timerFiring(9n, oneShot)).toBe(true);
    expect(r.timerFiring(9n, oneShot)).toBe(false); // fires once
    expect(r.imports.timers.timerCancel(9n)).toBe(false);
  });

  it('forgets the timers of a previous instance; arm tags are not reused after a reset', () => {
    const r = recorder();
    r.imports.timers.timerSet(1n, 10, false);
    const before = lastArm(r);
    r.reset();
    r.imports.timers.timerSet(1n, 10, false);
    const after = lastArm(r);
    expect(after).not.toBe(before);
    expect(r.timerFiring(1n, before)).toBe(false);
    expect(r.timerFiring(1n, after)).toBe(true);
  });

  it('refuses timer-set for a plugin without handle-timer', () => {
    const r = recorder(100, false);
    expect(r.imports.timers.timerSet(1n, 10, false)).toBe(false);
    expect(kinds(r)).toEqual([]);
  });
});
