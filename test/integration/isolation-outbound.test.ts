/**
 * A plugin that floods one peer from inside one call (#15): `channel-send` returns false at
 * `--max-outbound-bytes` in both isolation modes, the peer is closed `slow-consumer`, and the
 * broker's memory does not grow with what the plugin tried to send (in worker isolation 128 × 1 MiB
 * once grew the RSS by ≈ 400 MB). The `hostile` fixture's "P" request floods its saved channel.
 */
import { describe, expect, it } from 'vitest';
import { decimalHeaderBytes } from '../../host/framing/decimal-encoder.js';
import { DEFAULT_MAX_OUTBOUND_BYTES } from '../../host/limits.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { useClients } from '../helpers/client.js';
import { fixture } from '../helpers/paths.js';

const HOSTILE = fixture('hostile');
const FRAMES = 128;
const FRAME_BYTES = 1024 * 1024;

const flood = (count: number, size: number): Buffer => {
  const b = Buffer.alloc(9);
  b.write('P', 0);
  b.writeUInt32LE(count, 1);
  b.writeUInt32LE(size, 5);
  return b;
};

describe.each(['inline', 'worker'] as const)('a flood from inside one call (%s isolation) (#15)', (isolation) => {
  let tb: TestBroker | undefined;
  const { connect } = useClients(() => tb);

  it('returns false at --max-outbound-bytes, closes the peer slow-consumer, and keeps the RSS bounded', async () => {
    tb = await startBroker({ plugin: HOSTILE, isolation });
    const victim = await connect();
    victim.send('m'); // the plugin saves this channel as the one to flood
    expect((await victim.readFrame()).toString()).toBe('ok');
    victim.socket.pause(); // and it stops reading
    const observer = await connect();
    // Warm-up at a size that fits, so that slabs and the worker's buffers exist before measuring.
    observer.send(flood(2, 1024));
    expect((await observer.readFrame()).readUInt32LE()).toBe(2);
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;

    observer.send(flood(FRAMES, FRAME_BYTES));
    const accepted = (await observer.readFrame(30_000)).readUInt32LE();
    const rssGrowth = process.memoryUsage().rss - rssBefore;

    // Exactly what fits under the bound, as inline: 2 small frames already left for the kernel.
    const perFrame = decimalHeaderBytes(FRAME_BYTES) + FRAME_BYTES;
    expect(accepted).toBe(Math.floor(DEFAULT_MAX_OUTBOUND_BYTES / perFrame));
    expect(tb.broker.stats().closed['slow-consumer']).toBe(1);
    victim.socket.resume();
    await victim.waitClosed(10_000);
    // What was refused never piled up: far below the 128 MiB the plugin tried to send.
    expect(rssGrowth).toBeLessThan(100 * 1024 * 1024);
    // The broker still serves.
    observer.send('still there');
    expect((await observer.readFrame()).toString()).toBe('still there');
  });

  it('hands the calls after one with megabytes of effects to the next batch, in order, losing none', async () => {
    tb = await startBroker({ plugin: HOSTILE, isolation });
    const c = await connect();
    c.send('m'); // floods go to this (reading) client
    expect((await c.readFrame()).toString()).toBe('ok');
    // One write, so that a worker gets the three requests in one batch: 6 MiB of effects, then two echoes.
    c.write(Buffer.concat([flood(6, FRAME_BYTES), Buffer.from('a'), Buffer.from('b')].map((b) => Buffer.concat([Buffer.from(`${b.length}\n`), b]))));
    for (let i = 0; i < 6; i++) expect((await c.readFrame(30_000)).length).toBe(FRAME_BYTES);
    expect((await c.readFrame()).readUInt32LE()).toBe(6);
    expect((await c.readFrame()).toString()).toBe('a');
    expect((await c.readFrame()).toString()).toBe('b');
  });
});
