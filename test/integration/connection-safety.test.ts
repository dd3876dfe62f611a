/**
 * Connection safety over real sockets (issue #4): heartbeats, idle and auth deadlines, rate limits,
 * connection caps, slow consumers and draining. Short limits are set through the options; every
 * wait is on an event with a deadline.
 */
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { CLOSE_REASONS } from '../../host/plugin/world.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { TestClient } from '../helpers/client.js';
import { fixture } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

const PROBE = fixture('probe');

describe('connection safety', () => {
  let tb: TestBroker | undefined;
  const clients: TestClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await tb?.stop();
    tb = undefined;
  });
  const connect = async (localAddress?: string): Promise<TestClient> => {
    const socket = net.connect({ host: '127.0.0.1', port: tb!.port, localAddress, noDelay: true });
    await once(socket, 'connect');
    const c = new TestClient(socket);
    clients.push(c);
    return c;
  };
  const brokenLogs = (reason: (typeof CLOSE_REASONS)[number]) =>
    tb!.logs.filter((l) => l.plugin === 'probe' && l.msg === `broken:${CLOSE_REASONS.indexOf(reason)}`);

  describe('heartbeats', () => {
    it('answers a client heartbeat with one and never hands it to the plugin', async () => {
      tb = await startBroker({ plugin: PROBE });
      const c = await connect();
      c.write('0\n');
      expect((await c.readFrame()).length).toBe(0);
      c.send('then');
      expect((await c.readFrame()).toString()).toBe('then');
      expect(tb.broker.stats().framesIn).toBe(1);
    });

    it('pings a silent peer every pingIntervalMs and keeps it while it answers', async () => {
      // Timings far above scheduling noise on a loaded machine (#14): a ping every 250 ms, idle after 2.5 s.
      const idleTimeoutMs = 2500;
      tb = await startBroker({ plugin: PROBE, pingIntervalMs: 250, idleTimeoutMs });
      const c = await connect();
      const started = Date.now();
      // Answer pings until more than the idle timeout has passed: the connection stays.
      let pings = 0;
      while (Date.now() - started <= idleTimeoutMs + 250) {
        expect((await c.readFrame()).length).toBe(0);
        c.write('0\n');
        pings++;
      }
      expect(pings).toBeGreaterThan(1);
      c.send('still here');
      expect((await c.readFrame()).toString()).toBe('still here');
      expect(c.closed).toBe(false);
    });

    it('closes a peer that sends nothing for idleTimeoutMs (heartbeat-timeout)', async () => {
      // A talker every 250 ms against a 2.5 s idle timeout: ten times the margin (#14).
      tb = await startBroker({ plugin: PROBE, pingIntervalMs: 0, idleTimeoutMs: 2500 });
      const c = await connect();
      const talker = await connect();
      const keepTalking = setInterval(() => talker.write('0\n'), 250);
      try {
        await c.waitClosed(10_000);
        await waitFor(() => brokenLogs('heartbeat-timeout').length === 1, 'handle-broken(heartbeat-timeout)');
        expect(talker.closed).toBe(false);
        expect(tb.broker.stats().closed['heartbeat-timeout']).toBe(1);
      } finally {
        clearInterval(keepTalking);
      }
    });
  });

  describe('authentication gate', () => {
    it('closes connections the plugin has not authenticated within authDeadlineMs, and only those', async () => {
      // 2 s for the trusted peer to authenticate: far above scheduling noise (#14).
      tb = await startBroker({ plugin: PROBE, authDeadlineMs: 2000, pingIntervalMs: 0, idleTimeoutMs: 0 });
      const anonymous = await connect();
      const trusted = await connect();
      trusted.send('@');
      expect((await trusted.readFrame()).toString()).toBe('1');
      await anonymous.waitClosed(10_000);
      await waitFor(() => brokenLogs('auth-timeout').length === 1, 'handle-broken(auth-timeout)');
      trusted.send('still here');
      expect((await trusted.readFrame()).toString()).toBe('still here');
    });

    it('hands at most preAuthMaxFrames frames of an unauthenticated peer to the plugin', async () => {
      tb = await startBroker({ plugin: PROBE, authDeadlineMs: 60_000, preAuthMaxFrames: 3 });
      const c = await connect();
      for (let i = 0; i < 6; i++) c.send(`m${i}`);
      await c.waitClosed();
      expect(c.frames.map(String)).toEqual(['m0', 'm1', 'm2']);
      expect(tb.broker.stats().framesIn).toBe(3);
      expect(tb.broker.stats().closed['auth-timeout']).toBe(1);
    });

    it('hands at most preAuthMaxBytes body bytes of an unauthenticated peer to the plugin', async () => {
      tb = await startBroker({ plugin: PROBE, authDeadlineMs: 60_000, preAuthMaxBytes: 10 });
      const c = await connect();
      c.send('12345');
      c.send('67890');
      c.send('x');
      await c.waitClosed();
      expect(c.frames.map(String)).toEqual(['12345', '67890']);
    });

    it('stops counting once the plugin authenticated the channel', async () => {
      tb = await startBroker({ plugin: PROBE, authDeadlineMs: 60_000, preAuthMaxFrames: 2 });
      const c = await connect();
      c.send('@');
      for (let i = 0; i < 10; i++) c.send(`m${i}`);
      const frames = await c.waitFrames(11);
      expect(frames.map(String)).toEqual(['1', ...Array.from({ length: 10 }, (_, i) => `m${i}`)]);
    });
  });

  describe('rate limits', () => {
    it('closes a peer over its frame rate with rate-limited (rateAction close)', async () => {
      tb = await startBroker({ plugin: PROBE, rateFrames: 10, rateBurst: 1 });
      const c = await connect();
      c.write(Buffer.concat(Array.from({ length: 50 }, () => Buffer.from('1\ny'))));
      await c.waitClosed();
      // The burst (10) passes; each 100 ms the machine takes to process the flood adds one token, so
      // the bound above is wide (a stalled loop must not fail it) yet far below the 50 sent.
      expect(c.frames.length).toBeGreaterThanOrEqual(10);
      expect(c.frames.length).toBeLessThanOrEqual(20);
      await waitFor(() => brokenLogs('rate-limited').length === 1, 'handle-broken(rate-limited)');
    });

    it('drops frames over the byte rate without calling the plugin, keeping the connection (rateAction drop)', async () => {
      tb = await startBroker({ plugin: PROBE, rateBytes: 100, rateBurst: 1, rateAction: 'drop' });
      const c = await connect();
      c.write(Buffer.concat(Array.from({ length: 30 }, () => Buffer.from('10\n0123456789'))));
      c.write('0\n'); // a heartbeat after the flood: its answer proves the flood was processed
      await waitFor(() => c.frames.some((f) => f.length === 0), 'the heartbeat answer');
      const echoed = c.frames.filter((f) => f.length > 0).length;
      // The burst (100 bytes: 10 frames) passes, plus one frame per 100 ms of processing time.
      expect(echoed).toBeGreaterThanOrEqual(10);
      expect(echoed).toBeLessThanOrEqual(20);
      expect(tb.broker.stats().framesDropped).toBe(30 - echoed);
      expect(c.closed).toBe(false);
    });
  });

  describe('connection caps', () => {
    it('closes connections beyond maxConnections at once, counts them and logs one summary line', async () => {
      tb = await startBroker({ plugin: PROBE, maxConnections: 5 });
      const cs = await Promise.all(Array.from({ length: 8 }, () => connect()));
      await waitFor(() => cs.filter((c) => c.closed).length === 3, '3 refusals');
      await waitFor(() => tb!.logs.some((l) => l.msg === 'refused connections'), 'the summary line');
      expect(tb.logs.filter((l) => l.msg === 'refused connections')).toHaveLength(1);
      expect(tb.broker.stats().refused['max-connections']).toBe(3);
      // The plugin never saw the refused ones.
      expect(tb.logs.filter((l) => l.plugin === 'probe' && l.msg === 'connect')).toHaveLength(5);
    });

    it('caps connections per client IP, counting each address on its own', async () => {
      tb = await startBroker({ plugin: PROBE, maxConnectionsPerIp: 2 });
      const a = await Promise.all(Array.from({ length: 3 }, () => connect('127.0.0.1')));
      const b = await Promise.all(Array.from({ length: 2 }, () => connect('127.0.0.2')));
      await waitFor(() => a.filter((c) => c.closed).length === 1, 'one refusal for 127.0.0.1');
      for (const c of b) {
        c.send('ok');
        expect((await c.readFrame()).toString()).toBe('ok');
      }
      expect(tb.broker.stats().refused['max-connections-per-ip']).toBe(1);
      // A slot frees when a connection ends.
      a.find((c) => !c.closed)!.close();
      await waitFor(() => tb!.broker.stats().live === 3, 'the close to register');
      const again = await connect('127.0.0.1');
      again.send('back');
      expect((await again.readFrame()).toString()).toBe('back');
    });

    it('limits the accept rate per client IP', async () => {
      tb = await startBroker({ plugin: PROBE, acceptRatePerIp: 5 });
      const cs = await Promise.all(Array.from({ length: 40 }, () => connect()));
      await waitFor(() => tb!.broker.stats().accepted === 40, 'all 40 accepts');
      // 5 pass at once and one more per 200 ms: some of 40 are refused unless connecting took
      // 7 s, and never more than 35. An exact count would measure the machine's speed (#14).
      const refused = tb.broker.stats().refused['accept-rate-per-ip'] ?? 0;
      expect(refused).toBeGreaterThanOrEqual(1);
      expect(refused).toBeLessThanOrEqual(35);
      await waitFor(() => cs.filter((c) => c.closed).length === refused, 'refused sockets to close');
    });
  });

  describe('slow consumers', () => {
    it('closes 1000 peers that never read while the plugin pushes, with broker memory bounded', async () => {
      tb = await startBroker({ plugin: PROBE, maxOutboundBytes: 64 * 1024, maxFrameBytes: 16 * 1024, idleTimeoutMs: 0, pingIntervalMs: 0 });
      const payload = '#' + 'x'.repeat(8 * 1024 - 1); // each push: 1000 × 8 KiB = 8 MiB per peer
      const rssBefore = process.memoryUsage().rss;
      let peakRss = rssBefore;
      const cs: TestClient[] = [];
      for (let batch = 0; batch < 10; batch++) {
        const some = await Promise.all(Array.from({ length: 100 }, () => connect()));
        for (const c of some) {
          c.socket.pause(); // never read
          c.send(payload);
        }
        cs.push(...some);
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }
      await waitFor(() => (tb!.broker.stats().closed['slow-consumer'] ?? 0) === 1000, '1000 slow-consumer closes', { deadlineMs: 20_000 });
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      // Unbounded, the broker would hold 1000 × 8 MiB = 8 GiB here; bounded, each peer costs at
      // most maxOutboundBytes in the broker (plus what the kernel buffers).
      expect(peakRss - rssBefore).toBeLessThan(512 * 1024 * 1024);
      expect(brokenLogs('slow-consumer')).toHaveLength(1000);
    }, 60_000);
  });

  describe('drain', () => {
    it('flushes queued frames before handle-broken(shutdown), then stops', async () => {
      tb = await startBroker({ plugin: PROBE, drainTimeoutMs: 10_000 });
      const c = await connect();
      c.socket.pause();
      c.send('#' + 'y'.repeat(1023)); // 1000 × 1 KiB queued for a peer that is not reading yet
      await waitFor(() => tb!.broker.stats().framesIn === 1, 'the push');
      const stopped = tb.stop();
      c.socket.resume();
      await stopped;
      await c.waitClosed();
      expect(c.frames).toHaveLength(1000);
      expect(brokenLogs('shutdown')).toHaveLength(1);
      expect(tb.logs.some((l) => l.msg === 'drain timeout: closing channels with unsent frames')).toBe(false);
    });

    it('gives up on a peer that never reads after drainTimeoutMs', async () => {
      tb = await startBroker({ plugin: PROBE, drainTimeoutMs: 200, maxOutboundBytes: 64 * 1024 * 1024 });
      const c = await connect();
      c.socket.pause();
      c.send('#' + 'z'.repeat(16 * 1024 - 1)); // 16 MiB: more than the kernel buffers
      await waitFor(() => tb!.broker.stats().framesIn === 1, 'the push');
      await tb.stop();
      expect(tb.logs.some((l) => l.msg === 'drain timeout: closing channels with unsent frames')).toBe(true);
      expect(brokenLogs('shutdown')).toHaveLength(1);
    });
  });
});
