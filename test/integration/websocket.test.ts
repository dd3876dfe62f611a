/**
 * The `ws://` listener over real sockets (issue #10): one message is one frame both ways, heartbeats
 * (empty message, ping/pong), fragments, oversize and malformed frames, bad upgrades, wrong paths,
 * refused Origins, the handshake deadline, caps counted before the upgrade, slow consumers, and the
 * close code of every close reason the broker decides. Waits are on events with deadlines.
 */
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { CLOSE_REASONS, type CloseReason } from '../../host/plugin/world.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { ECHO_WASM, fixture } from '../helpers/paths.js';
import { clientFrame, closeCodeIn, connectWs, rawUpgrade, statusOf, upgradeRequest, upgradeStatus, type TestWsClient } from '../helpers/ws-client.js';
import type { BrokerOptions } from '../../host/config.js';
import { waitFor } from '../helpers/wait.js';

const PROBE = fixture('probe');

describe('WebSocket listener', () => {
  let tb: TestBroker | undefined;
  const clients: TestWsClient[] = [];
  const sockets: net.Socket[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const s of sockets.splice(0)) s.destroy();
    await tb?.stop();
    tb = undefined;
  });

  async function start(opts: Partial<Omit<BrokerOptions, 'logger'>> = {}): Promise<TestBroker> {
    tb = await startBroker({ plugin: PROBE, listen: ['ws://127.0.0.1:0/ws'], ...opts });
    return tb;
  }
  const url = (path = '/ws'): string => `ws://127.0.0.1:${tb!.port}${path}`;
  async function connect(opts: Parameters<typeof connectWs>[1] = {}): Promise<TestWsClient> {
    const c = await connectWs(url(), opts);
    clients.push(c);
    return c;
  }
  const brokenLogs = (reason: CloseReason) => tb!.logs.filter((l) => l.plugin === 'probe' && l.msg === `broken:${CLOSE_REASONS.indexOf(reason)}`);

  for (const isolation of ['inline', 'worker'] as const) {
    it(`echoes binary and text messages as binary messages, one message per frame (${isolation})`, async () => {
      await start({ plugin: ECHO_WASM, isolation });
      const c = await connect();
      c.send(Buffer.from([0, 1, 2, 0x0a, 0xff]));
      c.send('héllo');
      const binaryFlags: boolean[] = [];
      c.ws.on('message', (_d, isBinary) => binaryFlags.push(isBinary));
      const got = await c.waitMessages(2);
      expect(got[0]).toEqual(Buffer.from([0, 1, 2, 0x0a, 0xff]));
      expect(got[1].toString()).toBe('héllo');
      expect(binaryFlags).toEqual([true, true]);
      expect(tb!.broker.stats().framesIn).toBe(2);
    });
  }

  it('answers an empty message (the heartbeat) with one and never hands it to the plugin', async () => {
    await start();
    const c = await connect();
    c.send('');
    c.send('after');
    const got = await c.waitMessages(2);
    expect(got.map(String)).toEqual(['', 'after']);
    expect(tb!.broker.stats().framesIn).toBe(1);
  });

  it('delivers a fragmented message as one frame', async () => {
    await start();
    const c = await connect();
    c.ws.send('mes', { fin: false });
    c.ws.send('sa', { fin: false });
    c.ws.send('ge', { fin: true });
    expect((await c.waitMessages(1))[0].toString()).toBe('message');
    expect(tb!.broker.stats().framesIn).toBe(1);
  });

  it('refuses a message above maxFrameBytes with 1009 from its header, before the body arrives (PB_ERR_FRAME_TOO_LARGE)', async () => {
    await start({ maxFrameBytes: 1024 });
    const raw = await rawUpgrade(tb!.port);
    sockets.push(raw.socket);
    expect(statusOf(raw.response)).toBe(101);
    // Only the header of a 1 GiB message: a broker that buffered before checking would wait.
    raw.socket.write(clientFrame(0x2, Buffer.alloc(0), { declaredLength: 1 << 30 }));
    await once(raw.socket, 'close');
    const bytes = Buffer.concat(raw.rest);
    expect(bytes[0]).toBe(0x88); // a close frame
    expect(bytes.readUInt16BE(2)).toBe(1009);
    expect(tb!.broker.stats().closed).toEqual({ 'protocol-error': 1 });
    expect(tb!.logs.filter((l) => l.code === 'PB_ERR_FRAME_TOO_LARGE')).toHaveLength(1);
  });

  it('closes a connection that breaks the WebSocket protocol (an unmasked client frame) with 1002 (PB_ERR_WS_PROTOCOL), and only it', async () => {
    await start();
    const good = await connect();
    const raw = await rawUpgrade(tb!.port);
    sockets.push(raw.socket);
    raw.socket.write(clientFrame(0x2, Buffer.from('hi'), { mask: false }));
    await once(raw.socket, 'close');
    expect(Buffer.concat(raw.rest).readUInt16BE(2)).toBe(1002);
    expect(tb!.logs.filter((l) => l.code === 'PB_ERR_WS_PROTOCOL')).toHaveLength(1);
    good.send('still here');
    expect((await good.waitMessages(1))[0].toString()).toBe('still here');
    expect(brokenLogs('protocol-error')).toHaveLength(1);
  });

  it('answers an upgrade to another path with 404, a plain HTTP request with 426 and a malformed upgrade with 400, each counted', async () => {
    await start();
    expect(await upgradeStatus(url('/other'))).toBe(404);
    const plain = await rawUpgrade(tb!.port, 'GET /ws HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(statusOf(plain.response)).toBe(426);
    const noKey = await rawUpgrade(tb!.port, upgradeRequest('/ws', { 'Sec-WebSocket-Key': null }));
    expect(statusOf(noKey.response)).toBe(400);
    const garbage = await rawUpgrade(tb!.port, 'this is not HTTP\r\n\r\n');
    expect(statusOf(garbage.response)).toBe(400);
    await waitFor(() => tb!.broker.stats().refused['ws-bad-request'] === 3, 'three bad requests counted');
    expect(tb!.broker.stats().refused).toEqual({ 'ws-wrong-path': 1, 'ws-bad-request': 3 });
    // None of them reached the plugin, and a good client still connects.
    expect(tb!.logs.filter((l) => l.msg === 'connect')).toHaveLength(0);
    const c = await connect();
    c.send('ok');
    expect((await c.waitMessages(1))[0].toString()).toBe('ok');
  });

  it('refuses a browser Origin outside wsAllowedOrigins with 403; listed Origins and clients without one connect', async () => {
    await start({ wsAllowedOrigins: 'https://app.example.com, http://localhost:8080' });
    expect(await upgradeStatus(url(), { origin: 'https://evil.example.com' })).toBe(403);
    expect(await upgradeStatus(url(), { origin: 'https://APP.example.com' })).toBe(101);
    expect(await upgradeStatus(url(), { origin: 'http://localhost:8080' })).toBe(101);
    expect(await upgradeStatus(url())).toBe(101);
    await waitFor(() => tb!.broker.stats().refused['ws-origin-refused'] === 1, 'the refusal counted');
  });

  it('closes an upgrade that has not finished within handshakeTimeoutMs, however slowly it trickles (slowloris)', async () => {
    await start({ handshakeTimeoutMs: 300 });
    // Taken before connecting: the broker's deadline starts at its accept, which this process may
    // run before it sees its own 'connect' event when the machine is loaded.
    const t0 = Date.now();
    const s = net.connect({ host: '127.0.0.1', port: tb!.port });
    sockets.push(s);
    s.on('error', () => {});
    await once(s, 'connect');
    const request = upgradeRequest('/ws');
    let i = 0;
    const trickle = setInterval(() => {
      if (!s.destroyed && i < request.length - 4) s.write(request[i++]);
    }, 20);
    try {
      await once(s, 'close');
    } finally {
      clearInterval(trickle);
    }
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(i).toBeGreaterThan(0);
    expect(tb!.broker.stats().refused).toEqual({ 'handshake-timeout': 1 });
    expect(tb!.broker.stats().live).toBe(0);
  });

  it('counts connections against maxConnections at accept, before their upgrade', async () => {
    await start({ maxConnections: 1 });
    // A socket that has not upgraded yet holds the only slot...
    const pending = net.connect({ host: '127.0.0.1', port: tb!.port });
    sockets.push(pending);
    pending.on('error', () => {});
    await once(pending, 'connect');
    await waitFor(() => tb!.broker.stats().accepted === 1, 'the first accept');
    // ...so an upgrade on a second connection is refused before any HTTP is read.
    await expect(connectWs(url())).rejects.toThrow();
    await waitFor(() => tb!.broker.stats().refused['max-connections'] === 1, 'the refusal counted');
    pending.destroy();
    // The slot is freed when the broker sees that socket close: retry until then.
    let c: TestWsClient | undefined;
    await waitFor(async () => (c = await connect().catch(() => undefined)) !== undefined, 'the slot to be freed');
    c = c!;
    c.send('now');
    expect((await c.waitMessages(1))[0].toString()).toBe('now');
  });

  it('pings a silent peer after pingIntervalMs: one that answers stays, one that does not is closed with 4004 (heartbeat-timeout)', async () => {
    await start({ pingIntervalMs: 200, idleTimeoutMs: 3000 });
    const answering = await connect();
    const silent = await connect({ autoPong: false });
    expect(await silent.waitClosed(15_000)).toBe(4004);
    expect(silent.closeReason).toBe('heartbeat-timeout');
    expect(silent.pings).toBeGreaterThan(0);
    // The answering client saw the same pings, answered them (ws does), and is still open.
    expect(answering.pings).toBeGreaterThan(0);
    expect(answering.closed).toBe(false);
    answering.send('alive');
    expect((await answering.waitMessages(1))[0].toString()).toBe('alive');
    expect(tb!.broker.stats().framesIn).toBe(1);
  });

  it('closes a peer that never reads once its queue passes maxOutboundBytes (slow-consumer: a reset, no close frame)', async () => {
    await start({ maxOutboundBytes: 64 * 1024, maxFrameBytes: 16 * 1024, pingIntervalMs: 0, idleTimeoutMs: 0 });
    const good = await connect();
    const raw = await rawUpgrade(tb!.port);
    sockets.push(raw.socket);
    raw.socket.pause(); // never reads
    raw.socket.write(clientFrame(0x2, Buffer.from('#' + 'x'.repeat(8 * 1024 - 1)))); // 1000 pushes of 8 KiB
    await waitFor(() => tb!.broker.stats().closed['slow-consumer'] === 1, 'the slow consumer closed');
    expect(brokenLogs('slow-consumer')).toHaveLength(1);
    good.send('unaffected');
    expect((await good.waitMessages(1))[0].toString()).toBe('unaffected');
  });

  describe('close codes: 4000 + the close reason', () => {
    const cases: Array<[CloseReason, Partial<Omit<BrokerOptions, 'logger'>>, (c: TestWsClient) => void]> = [
      ['closed-by-plugin', {}, (c) => c.send('c')],
      ['auth-timeout', { authDeadlineMs: 200 }, () => {}],
      ['rate-limited', { rateFrames: 1, rateBurst: 1 }, (c) => ['a', 'b', 'c'].forEach((m) => c.send(m))],
      ['plugin-failed', {}, (c) => c.send('!')],
    ];
    for (const [reason, opts, provoke] of cases) {
      it(`closes with ${4000 + CLOSE_REASONS.indexOf(reason)} and reason "${reason}"`, async () => {
        await start(opts);
        const c = await connect();
        provoke(c);
        expect(await c.waitClosed(10_000)).toBe(4000 + CLOSE_REASONS.indexOf(reason));
        expect(c.closeReason).toBe(reason);
      });
    }

    it('closes every connection with 4009 (shutdown) after flushing its frames when the broker stops', async () => {
      await start();
      const c = await connect();
      c.send('last');
      await c.waitMessages(1);
      await tb!.broker.stop();
      expect(await c.waitClosed()).toBe(4009);
      expect(c.closeReason).toBe('shutdown');
    });

    it('closes a connection the plugin refuses with 4003 (refused-by-plugin), in worker isolation too', async () => {
      for (const isolation of ['inline', 'worker'] as const) {
        tb = await start({ pluginConfig: 'o', isolation }); // probe refuses peers on odd ports with config "o"
        let raw;
        for (let tries = 0; raw === undefined; tries++) {
          // An odd local port below the ephemeral range; another one if it is taken.
          const localPort = 20_001 + 2 * Math.floor(Math.random() * 6000);
          raw = await rawUpgrade(tb.port, upgradeRequest('/ws'), { localPort }).catch((err) => {
            if (tries > 20) throw err;
            return undefined;
          });
        }
        sockets.push(raw.socket);
        if (!raw.socket.closed) await once(raw.socket, 'close');
        expect(closeCodeIn(Buffer.concat(raw.rest)), isolation).toBe(4003);
        await tb.stop();
        tb = undefined;
      }
    });
  });
});
