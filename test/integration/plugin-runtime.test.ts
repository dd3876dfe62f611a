/**
 * The runtime rules of wit/plugin.wit, exercised with the hand-written `probe` plugin
 * (test/fixtures/plugins/probe.wat) over real TCP.
 */
import { describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { useClients } from '../helpers/client.js';
import { fixture } from '../helpers/paths.js';
import { CLOSE_REASONS } from '../../host/plugin/world.js';
import { waitFor } from '../helpers/wait.js';

const PROBE = fixture('probe');
const reasonCode = (r: (typeof CLOSE_REASONS)[number]): number => CLOSE_REASONS.indexOf(r);

describe('plugin runtime', () => {
  let tb: TestBroker | undefined;
  const { connect } = useClients(() => tb);
  const pluginLogs = (msg: string) => tb!.logs.filter((l) => l.plugin === 'probe' && l.msg === msg);
  const waitLog = (msg: string, count = 1, deadlineMs?: number): Promise<void> =>
    waitFor(
      () => pluginLogs(msg).length >= count,
      () => `${count} "${msg}" log lines (got ${pluginLogs(msg).length})`,
      { deadlineMs },
    );

  it('survives a trap: logs it, closes that channel (plugin-failed), restarts, keeps serving others', async () => {
    tb = await startBroker({ plugin: PROBE });
    const bystander = await connect();
    const victim = await connect();
    bystander.send('before');
    expect((await bystander.readFrame()).toString()).toBe('before');
    victim.send('!boom');
    await victim.waitClosed();
    bystander.send('after');
    expect((await bystander.readFrame()).toString()).toBe('after');
    const trap = tb.logs.find((l) => l.code === 'PB_ERR_PLUGIN_TRAP');
    expect(trap).toMatchObject({ export: 'handle-msg' });
    expect(tb.broker.stats().closed['plugin-failed']).toBe(1);
    expect(tb.broker.pluginHealth).toBe('ok');
    // The fresh instance was told about the bystander (handle-connect with resumed = true).
    expect(pluginLogs('connect')).toHaveLength(3);
    // No handle-broken reached the new instance for the victim.
    expect(pluginLogs(`broken:${reasonCode('plugin-failed')}`)).toHaveLength(0);
    const fresh = await connect();
    fresh.send('new');
    expect((await fresh.readFrame()).toString()).toBe('new');
  });

  it("treats an out-of-bounds pointer passed to channel-send as the plugin's own trap", async () => {
    tb = await startBroker({ plugin: PROBE });
    const c = await connect();
    c.send('x');
    await c.waitClosed();
    const trap = tb.logs.find((l) => l.code === 'PB_ERR_PLUGIN_TRAP');
    expect((trap?.err as { code?: string })?.code).toBe('PB_ERR_PLUGIN_BAD_POINTER');
    expect(tb.broker.pluginHealth).toBe('ok');
  });

  it('returns false for channel-send to a forged handle', async () => {
    tb = await startBroker({ plugin: PROBE });
    const c = await connect();
    c.send('f');
    expect((await c.readFrame()).toString()).toBe('0');
  });

  it('delivers handle-broken(closed-by-plugin) after the call that closed the channel, exactly once', async () => {
    tb = await startBroker({ plugin: PROBE });
    const c = await connect();
    c.write('1\nc5\nhello'); // the frame after the close must not reach the plugin
    await c.waitClosed();
    await waitLog(`broken:${reasonCode('closed-by-plugin')}`);
    expect(c.frames).toHaveLength(0);
    expect(tb.broker.stats().framesIn).toBe(1);
    expect(tb.logs.filter((l) => l.plugin === 'probe' && String(l.msg).startsWith('broken:'))).toHaveLength(1);
  });

  it('delivers handle-broken(peer-closed) when the client goes away', async () => {
    tb = await startBroker({ plugin: PROBE });
    const c = await connect();
    c.send('hi');
    await c.readFrame();
    c.close();
    await waitLog(`broken:${reasonCode('peer-closed')}`);
  });

  it('refuses connections the plugin rejects and still calls handle-broken(refused-by-plugin)', async () => {
    tb = await startBroker({ plugin: PROBE, pluginConfig: 'o' }); // probe refuses odd peer ports
    const results = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const c = await connect();
        const odd = (c.socket.localPort! & 1) === 1;
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
    expect(tb.broker.stats().closed['refused-by-plugin'] ?? 0).toBe(refused);
  });

  it('passes plugin log lines to the broker log, tagged with the plugin name', async () => {
    tb = await startBroker({ plugin: PROBE });
    const c = await connect();
    c.send('Lhello from the plugin');
    await waitLog('Lhello from the plugin');
  });

  it("refuses to start when the plugin's start returns an error", async () => {
    await expect(startBroker({ plugin: PROBE, pluginConfig: 'refuse' })).rejects.toMatchObject({ code: 'PB_ERR_PLUGIN_START_FAILED' });
  });

  it('gives every channel handle-broken(shutdown), then calls stop', async () => {
    tb = await startBroker({ plugin: PROBE });
    const cs = await Promise.all(Array.from({ length: 5 }, () => connect()));
    for (const c of cs) c.send('0');
    await Promise.all(cs.map((c) => c.readFrame()));
    await tb.stop();
    expect(pluginLogs(`broken:${reasonCode('shutdown')}`)).toHaveLength(5);
    const stopIndex = tb.logs.findIndex((l) => l.msg === 'stop');
    const lastBroken = tb.logs.findLastIndex((l) => l.msg === `broken:${reasonCode('shutdown')}`);
    expect(stopIndex).toBeGreaterThan(lastBroken);
    await Promise.all(cs.map((c) => c.waitClosed()));
  });
});
