/**
 * The `timers` interface and the `handle-timer` export over real TCP, with the `router` fixture
 * (test/fixtures/plugins/router.wat): one-shot and repeating timers, cancel, many timers at once,
 * and timers cancelled with the instance that armed them after a trap.
 */
import { describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { useClients } from '../helpers/client.js';
import { fixture } from '../helpers/paths.js';

const ROUTER = fixture('router');
const PROBE = fixture('probe');

function setTimer(token: bigint, delayMs: number, repeat = false): Buffer {
  const b = Buffer.alloc(14);
  b.write('t', 0);
  b.writeBigUInt64LE(token, 1);
  b.writeUInt32LE(delayMs, 9);
  b[13] = repeat ? 1 : 0;
  return b;
}
function cancelTimer(token: bigint): Buffer {
  const b = Buffer.alloc(9);
  b.write('x', 0);
  b.writeBigUInt64LE(token, 1);
  return b;
}
/** The token of a timer frame ("T" + u64). */
function tokenOf(frame: Buffer): bigint {
  expect(frame.length).toBe(9);
  expect(frame[0]).toBe(0x54);
  return frame.readBigUInt64LE(1);
}

describe.each(['inline', 'worker'] as const)('timers (%s isolation)', (isolation) => {
  let tb: TestBroker | undefined;
  const { connect } = useClients(() => tb);

  it('fires a one-shot timer once, no earlier than its delay', async () => {
    tb = await startBroker({ plugin: ROUTER, isolation });
    const c = await connect();
    const t0 = performance.now();
    c.send(setTimer(42n, 50));
    expect((await c.readFrame())[0]).toBe(1);
    expect(tokenOf(await c.readFrame())).toBe(42n);
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(49);
    c.send('after');
    expect((await c.readFrame()).toString()).toBe('after'); // no second firing in between
    c.send(cancelTimer(42n));
    expect((await c.readFrame())[0]).toBe(0); // already fired: not armed
  });

  it('fires a repeating timer until it is cancelled', async () => {
    tb = await startBroker({ plugin: ROUTER, isolation });
    const c = await connect();
    c.send(setTimer(7n, 10, true));
    expect((await c.readFrame())[0]).toBe(1);
    for (let i = 0; i < 5; i++) expect(tokenOf(await c.readFrame())).toBe(7n);
    c.send(cancelTimer(7n));
    // Firings already queued before the cancel may still arrive; after the answer, none.
    let frame = await c.readFrame();
    while (frame.length === 9) frame = await c.readFrame();
    expect(frame[0]).toBe(1);
    c.send(setTimer(8n, 60));
    expect((await c.readFrame())[0]).toBe(1);
    expect(tokenOf(await c.readFrame())).toBe(8n); // and not 7
  });

  it('keeps many named timers apart and fires them in deadline order', async () => {
    tb = await startBroker({ plugin: ROUTER, isolation });
    const c = await connect();
    const tokens = Array.from({ length: 200 }, (_, i) => BigInt(i) * 0x1_0000_0001n);
    // Armed in reverse order of their deadlines: 200 ms down to 1 ms apart by 1 ms.
    for (let i = 0; i < tokens.length; i++) c.send(setTimer(tokens[i], 210 - i));
    const answers = await c.waitFrames(400, 10_000);
    const fired = answers.filter((f) => f.length === 9).map(tokenOf);
    expect(fired).toHaveLength(200);
    expect(new Set(fired).size).toBe(200);
    // Node timers have 1 ms resolution: neighbours may swap, far ones may not.
    expect(fired.indexOf(tokens[199])).toBeLessThan(fired.indexOf(tokens[0]));
    expect(fired.indexOf(tokens[150])).toBeLessThan(fired.indexOf(tokens[50]));
  });

  it('cancels the timers of an instance that trapped', async () => {
    tb = await startBroker({ plugin: ROUTER, isolation });
    const watcher = await connect();
    const victim = await connect();
    watcher.send(setTimer(1n, 20, true));
    expect((await watcher.readFrame())[0]).toBe(1);
    expect(tokenOf(await watcher.readFrame())).toBe(1n);
    victim.send('!');
    await victim.waitClosed();
    // The fresh instance knows the watcher again (resumed) but no timer: route timer frames to it
    // and arm a new one; the first timer frame it sees must be the new one.
    watcher.send('w');
    let frame = await watcher.readFrame();
    while (frame.length === 9) frame = await watcher.readFrame(); // firings from before the trap
    expect(frame.toString()).toBe('1');
    watcher.send(setTimer(2n, 100));
    expect((await watcher.readFrame())[0]).toBe(1);
    expect(tokenOf(await watcher.readFrame())).toBe(2n);
  });

  it('refuses timer-set for a plugin without handle-timer', async () => {
    // probe exports no handle-timer; it also imports no timers, so check through the host API.
    const { TimerTable } = await import('../../host/routing/timers.js');
    const { createTimersInterface, tableTimersTarget } = await import('../../host/host-api/timers.js');
    const api = createTimersInterface(tableTimersTarget(new TimerTable(() => {})), { timed: false });
    expect(api.timerSet(1n, 10, false)).toBe(false);
    tb = await startBroker({ plugin: PROBE, isolation }); // and a plugin of world `plugin` still loads
    const c = await connect();
    c.send('hi');
    expect((await c.readFrame()).toString()).toBe('hi');
  });
});
