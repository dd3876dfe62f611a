/**
 * Channel data (`channel-set-data`/`channel-get-data`, issue 13): the checks of host.ts over the
 * broker's `ChannelDataStore`, and the worker's mirror (effect-recorder.ts) answering alike.
 */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { ChannelDataStore } from '../../../host/host-api/channel-data.js';
import { createHostInterface, routerHostTarget } from '../../../host/host-api/host.js';
import type { Router } from '../../../host/routing/router.js';
import { EffectRecorder } from '../../../host/plugin/worker/effect-recorder.js';
import { EFFECT_SET_DATA, encodeChannelData, forEachRecord } from '../../../host/plugin/worker/worker-protocol.js';

const text = (s: string): Buffer => Buffer.from(s, 'utf8');
const str = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

/** The host interface over a store, with a router that knows the channels in `known`. */
function inline(max = 8): { host: ReturnType<typeof createHostInterface>; store: ChannelDataStore; known: Set<number> } {
  const known = new Set<number>();
  const router = { knows: (ch: number) => known.has(ch) } as unknown as Router;
  const store = new ChannelDataStore();
  const host = createHostInterface(routerHostTarget(router, pino({ level: 'silent' }), store), { maxFrameBytes: 64, maxChannelDataBytes: max });
  return { host, store, known };
}

describe('channel data on the I/O thread (inline isolation)', () => {
  it('stores a copy, replaces it, clears it with an empty list; get is empty when unset', () => {
    const { host, store, known } = inline();
    known.add(1);
    expect(host.channelGetData(1).length).toBe(0);
    const src = text('xxalicexx');
    expect(host.channelSetData(1, src, 2, 7)).toBe(true);
    src.fill(0); // the store kept its own copy
    expect(str(host.channelGetData(1))).toBe('alice');
    expect(host.channelSetData(1, text('bob'), 0, 3)).toBe(true);
    expect(str(host.channelGetData(1))).toBe('bob');
    expect(store.totalBytes).toBe(3);
    expect(host.channelSetData(1, text(''), 0, 0)).toBe(true);
    expect(host.channelGetData(1).length).toBe(0);
    expect(store.size).toBe(0);
  });

  it('refuses more than --channel-data-max-bytes and keeps what was stored', () => {
    const { host, known } = inline(8);
    known.add(1);
    expect(host.channelSetData(1, text('12345678'), 0, 8)).toBe(true);
    expect(host.channelSetData(1, text('123456789'), 0, 9)).toBe(false);
    expect(str(host.channelGetData(1))).toBe('12345678');
  });

  it('refuses an unknown or ended channel; data of an ended channel stays readable until the broker drops it', () => {
    const { host, store, known } = inline();
    expect(host.channelSetData(7, text('x'), 0, 1)).toBe(false);
    known.add(2);
    expect(host.channelSetData(2, text('carol'), 0, 5)).toBe(true);
    known.delete(2); // the connection ended: its handle-broken is due
    expect(host.channelSetData(2, text('dave'), 0, 4)).toBe(false);
    expect(str(host.channelGetData(2))).toBe('carol');
    store.delete(2); // handle-broken has returned
    expect(host.channelGetData(2).length).toBe(0);
    expect(store.totalBytes).toBe(0);
  });
});

describe('channel data in a plugin worker (the mirror)', () => {
  const recorder = (): EffectRecorder =>
    new EffectRecorder({ maxFrameBytes: 64, maxOutboundBytes: 1000, timed: false, upstreamServices: [], maxChannelDataBytes: 8 });

  it('answers get from the mirror at once and records each set as an effect', () => {
    const r = recorder();
    r.channelConnected(1);
    expect(r.imports.host.channelGetData(1).length).toBe(0);
    expect(r.imports.host.channelSetData(1, text('alice'), 0, 5)).toBe(true);
    expect(str(r.imports.host.channelGetData(1))).toBe('alice');
    expect(r.imports.host.channelSetData(1, text('123456789'), 0, 9)).toBe(false);
    expect(r.imports.host.channelSetData(9, text('x'), 0, 1)).toBe(false);
    const effects: Array<[number, number, string]> = [];
    forEachRecord(r.effects.take(), (rec) => void effects.push([rec.kind, rec.channel, rec.body.toString()]));
    expect(effects).toEqual([[EFFECT_SET_DATA, 1, 'alice']]);
  });

  it('a closing channel may still set; an ending one (in handle-broken) may not, and its data goes after', () => {
    const r = recorder();
    r.channelConnected(1);
    r.imports.host.channelClose(1);
    expect(r.imports.host.channelSetData(1, text('bye'), 0, 3)).toBe(true);
    expect(r.channelBroken(1)).toBe(true);
    expect(r.imports.host.channelSetData(1, text('no'), 0, 2)).toBe(false);
    expect(str(r.imports.host.channelGetData(1))).toBe('bye');
    r.channelEnded(1);
    expect(r.imports.host.channelGetData(1).length).toBe(0);
  });

  it('a fresh instance forgets its own data and reads the broker copy it is seeded with', () => {
    const r = recorder();
    r.channelConnected(1);
    r.imports.host.channelSetData(1, text('old'), 0, 3);
    r.reset();
    expect(r.imports.host.channelGetData(1).length).toBe(0);
    const store = new ChannelDataStore();
    store.set(1, text('alice'), 0, 5);
    store.set(3, text('bob'), 0, 3);
    r.seedData(encodeChannelData(store.entries()));
    expect(str(r.imports.host.channelGetData(1))).toBe('alice');
    expect(str(r.imports.host.channelGetData(3))).toBe('bob');
  });
});
