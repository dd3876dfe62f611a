/**
 * The calling rules of wit/plugin.wit across the thread boundary (#5): the `probe` fixture under
 * `--isolation worker`, where `handle-connect`'s answer is asynchronous and calls travel in batches.
 */
import { describe, expect, it } from 'vitest';
import { CLOSE_REASONS } from '../../host/plugin/world.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { useClients } from '../helpers/client.js';
import { fixture } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

const PROBE = fixture('probe');
const WORKER = { isolation: 'worker', pluginCallBudgetMs: 1000 } as const;
const reasonCode = (r: (typeof CLOSE_REASONS)[number]): number => CLOSE_REASONS.indexOf(r);

describe('calling rules in worker isolation', () => {
  let tb: TestBroker | undefined;
  const { connect } = useClients(() => tb);
  const probeLogs = (msg: string) => tb!.logs.filter((l) => l.plugin === 'probe' && l.msg === msg);
  const waitLog = (msg: string, count = 1, deadlineMs?: number): Promise<void> =>
    waitFor(
      () => probeLogs(msg).length >= count,
      () => `${count} "${msg}" log lines (got ${probeLogs(msg).length})`,
      { deadlineMs },
    );

  it('refuses a connection asynchronously: frames sent meanwhile never reach the plugin, handle-broken(refused-by-plugin) does', async () => {
    tb = await startBroker({ plugin: PROBE, pluginConfig: 'o', ...WORKER }); // probe refuses odd peer ports
    const results = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const c = await connect();
        const odd = (c.socket.localPort! & 1) === 1;
        // Sent before the answer can arrive: for a refused channel the plugin must not see it.
        c.send('Lfrom a refused peer?');
        if (odd) await c.waitClosed();
        else {
          c.send('ok');
          expect((await c.readFrame()).toString()).toBe('ok');
        }
        return odd;
      }),
    );
    const refused = results.filter(Boolean).length;
    await waitLog(`broken:${reasonCode('refused-by-plugin')}`, refused);
    expect(probeLogs('Lfrom a refused peer?')).toHaveLength(6 - refused);
    expect(tb.broker.stats().closed['refused-by-plugin'] ?? 0).toBe(refused);
  });

  it('delivers handle-broken(closed-by-plugin) once, and no frame after the close', async () => {
    tb = await startBroker({ plugin: PROBE, ...WORKER });
    const c = await connect();
    c.write('1\nc5\nhello');
    await c.waitClosed();
    await waitLog(`broken:${reasonCode('closed-by-plugin')}`);
    expect(c.frames).toHaveLength(0);
    expect(tb.logs.filter((l) => l.plugin === 'probe' && String(l.msg).startsWith('broken:'))).toHaveLength(1);
  });

  it('answers channel-send to a forged handle with false', async () => {
    tb = await startBroker({ plugin: PROBE, ...WORKER });
    const c = await connect();
    c.send('f');
    expect((await c.readFrame()).toString()).toBe('0');
  });

  it('gives every channel handle-broken(shutdown), then calls stop', async () => {
    tb = await startBroker({ plugin: PROBE, ...WORKER });
    const cs = await Promise.all(Array.from({ length: 5 }, () => connect()));
    for (const c of cs) c.send('0');
    await Promise.all(cs.map((c) => c.readFrame()));
    await tb.stop();
    expect(probeLogs(`broken:${reasonCode('shutdown')}`)).toHaveLength(5);
    const stopIndex = tb.logs.findIndex((l) => l.msg === 'stop');
    const lastBroken = tb.logs.findLastIndex((l) => l.msg === `broken:${reasonCode('shutdown')}`);
    expect(stopIndex).toBeGreaterThan(lastBroken);
  });

  it('keeps frame order per channel under load', async () => {
    tb = await startBroker({ plugin: PROBE, ...WORKER });
    const cs = await Promise.all(Array.from({ length: 10 }, () => connect()));
    for (let i = 0; i < 200; i++) for (const [k, c] of cs.entries()) c.send(`${k}:${i}`);
    await Promise.all(
      cs.map(async (c, k) => {
        const frames = await c.waitFrames(200);
        expect(frames.map(String)).toEqual(Array.from({ length: 200 }, (_, i) => `${k}:${i}`));
      }),
    );
  });
});
