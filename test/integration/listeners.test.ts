/**
 * Several listeners in one broker (issue #10): tcp:// with both framings, tls:// with a certificate
 * made in test setup, ws:// and wss://. The plugin sees each peer's transport and `secure`; a group
 * reaches members on every listener in their own framing; plain bytes to a TLS port and TLS
 * handshakes that never finish close only that connection and are counted; caps count before the
 * TLS handshake; and the CLI refuses bad listener flags with one line and exit code 2.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerOptions } from '../../host/config.js';
import { BinaryDecoder } from '../../host/framing/binary-decoder.js';
import { encodeBinaryFrame } from '../../host/framing/binary-encoder.js';
import { encodeDecimalFrame } from '../../host/framing/decimal-encoder.js';
import { startBroker, spawnBroker, type TestBroker } from '../helpers/broker.js';
import { TestClient, connectClient } from '../helpers/client.js';
import { BROKER_BIN, ECHO_WASM, ROOT, fixture } from '../helpers/paths.js';
import { makeTestCert, writeTestFile, type TestCert } from '../helpers/tls.js';
import { connectWs, type TestWsClient } from '../helpers/ws-client.js';
import { Waiter, waitFor } from '../helpers/wait.js';

const PEER_INFO = fixture('peer-info');
const ROUTER = fixture('router');

/** A client of the binary framing over any socket: frames decoded as they arrive. */
class BinaryClient {
  readonly frames: Buffer[] = [];
  readonly #waiter = new Waiter();
  constructor(readonly socket: net.Socket) {
    const d = new BinaryDecoder({ onFrame: (b) => this.frames.push(Buffer.from(b)) }, 1 << 20);
    socket.on('data', (c: Buffer) => {
      d.push(c);
      this.#waiter.wake();
    });
    socket.on('close', () => this.#waiter.wake());
    socket.on('error', () => {});
  }
  send(body: string | Uint8Array): void {
    this.socket.write(encodeBinaryFrame(typeof body === 'string' ? Buffer.from(body) : body));
  }
  async waitFrames(n: number, deadlineMs?: number): Promise<Buffer[]> {
    const failIf = (): string | undefined => (this.socket.closed ? 'closed' : undefined);
    await this.#waiter.until(
      () => this.frames.length >= n,
      () => `${this.frames.length}/${n} frames`,
      { deadlineMs, failIf },
    );
    return this.frames.slice(0, n);
  }
}

describe('listeners', () => {
  let cert: TestCert;
  let tb: TestBroker | undefined;
  const closers: Array<() => void> = [];
  beforeAll(() => {
    cert = makeTestCert();
  });
  afterAll(() => cert.remove());
  afterEach(async () => {
    for (const c of closers.splice(0)) c();
    await tb?.stop();
    tb = undefined;
  });

  const ALL = [
    'tcp://127.0.0.1:0',
    'tcp://127.0.0.1:0?framing=binary',
    'tls://127.0.0.1:0',
    'tls://127.0.0.1:0?framing=binary',
    'ws://127.0.0.1:0/ws',
    'wss://127.0.0.1:0/ws',
  ];
  async function startAll(opts: Partial<Omit<BrokerOptions, 'logger'>> = {}): Promise<TestBroker> {
    tb = await startBroker({ plugin: PEER_INFO, listen: ALL, tlsCert: cert.certPath, tlsKey: cert.keyPath, ...opts });
    return tb;
  }
  const portOf = (i: number): number => tb!.broker.listeners[i].port;

  async function tcp(i: number): Promise<TestClient> {
    const c = await connectClient(portOf(i));
    closers.push(() => c.close());
    return c;
  }
  async function tlsSocket(i: number): Promise<tls.TLSSocket> {
    const s = tls.connect({ host: '127.0.0.1', port: portOf(i), ca: cert.cert, servername: 'localhost' });
    closers.push(() => s.destroy());
    await once(s, 'secureConnect');
    return s;
  }
  async function ws(i: number): Promise<TestWsClient> {
    const scheme = tb!.broker.listeners[i].scheme;
    const c = await connectWs(`${scheme}://127.0.0.1:${portOf(i)}/ws`, { ca: cert.cert });
    closers.push(() => c.close());
    return c;
  }

  it('lists every listener with its bound port in the listening log line', async () => {
    await startAll();
    const line = tb!.logs.find((l) => l.msg === 'listening')!;
    const urls = line.listeners as string[];
    expect(urls).toHaveLength(6);
    expect(urls.map((u) => u.replace(/:\d+/, ':P'))).toEqual(ALL.map((u) => u.replace(':0', ':P')));
    expect(urls.every((u) => !/:0(\/|\?|$)/.test(u))).toBe(true);
    expect(line.port).toBe(portOf(0));
  });

  for (const isolation of ['inline', 'worker'] as const) {
    it(`serves one plugin on all six listeners, which sees each peer's transport and secure flag (${isolation})`, async () => {
      await startAll({ isolation });
      const answer = (f: Buffer): string => `${String.fromCharCode(f[0])}${f[1]}${f[2]}:${f.subarray(3).toString()}`;
      const plainDecimal = await tcp(0);
      plainDecimal.send('a');
      const plainBinary = new BinaryClient(net.connect({ host: '127.0.0.1', port: portOf(1) }));
      closers.push(() => plainBinary.socket.destroy());
      plainBinary.send('b');
      const tlsDecimal = new TestClient(await tlsSocket(2));
      tlsDecimal.send('c');
      const tlsBinary = new BinaryClient(await tlsSocket(3));
      tlsBinary.send('d');
      const wsPlain = await ws(4);
      wsPlain.send('e');
      const wsSecure = await ws(5);
      wsSecure.send('f');
      expect(answer(await plainDecimal.readFrame())).toBe('t00:a');
      expect(answer((await plainBinary.waitFrames(1))[0])).toBe('t00:b');
      expect(answer(await tlsDecimal.readFrame())).toBe('t01:c');
      expect(answer((await tlsBinary.waitFrames(1))[0])).toBe('t01:d');
      expect(answer((await wsPlain.waitMessages(1))[0])).toBe('t10:e');
      expect(answer((await wsSecure.waitMessages(1))[0])).toBe('t11:f');
    });
  }

  it('answers a binary heartbeat (length 0) with one and refuses a length above maxFrameBytes before its body', async () => {
    await startAll({ maxFrameBytes: 100 });
    const c = new BinaryClient(net.connect({ host: '127.0.0.1', port: portOf(1) }));
    closers.push(() => c.socket.destroy());
    c.socket.write(Buffer.from([0, 0, 0, 0]));
    expect((await c.waitFrames(1))[0].length).toBe(0);
    c.socket.write(Buffer.from([0, 0, 0, 101])); // header only
    await once(c.socket, 'close');
    expect(tb!.broker.stats().closed).toEqual({ 'protocol-error': 1 });
    expect(tb!.logs.filter((l) => l.code === 'PB_ERR_FRAME_TOO_LARGE')).toHaveLength(1);
  });

  it('delivers one group send to members on every listener, each in its own framing', async () => {
    tb = await startBroker({ plugin: ROUTER, listen: ALL, tlsCert: cert.certPath, tlsKey: cert.keyPath });
    const join = Buffer.concat([Buffer.from('j'), Buffer.of(4), Buffer.from('room')]);
    const decimal = await tcp(0);
    const binary = new BinaryClient(await tlsSocket(3));
    const wsc = await ws(4);
    decimal.send(join);
    binary.send(join);
    wsc.send(join);
    await decimal.readFrame();
    await binary.waitFrames(1);
    await wsc.waitMessages(1);
    // "q" room except=0 msg: a group-send without a reply, twice in one write (one fan-out run).
    const q = (msg: string): Buffer => Buffer.concat([Buffer.from('q'), Buffer.of(4), Buffer.from('room'), Buffer.alloc(4), Buffer.from(msg)]);
    decimal.write(Buffer.concat([encodeDecimalFrame(q('hello all')), encodeDecimalFrame(q('again'))]));
    expect((await decimal.waitFrames(3)).slice(1).map(String)).toEqual(['hello all', 'again']);
    expect((await binary.waitFrames(3)).slice(1).map(String)).toEqual(['hello all', 'again']);
    expect((await wsc.waitMessages(3)).slice(1).map(String)).toEqual(['hello all', 'again']);
  });

  it('closes plain bytes sent to a TLS port, counted as tls-handshake-failed, without disturbing a TLS peer', async () => {
    await startAll();
    const good = new TestClient(await tlsSocket(2));
    const s = net.connect({ host: '127.0.0.1', port: portOf(2) });
    closers.push(() => s.destroy());
    s.on('error', () => {});
    s.resume();
    await once(s, 'connect');
    s.write('5\nhello');
    await once(s, 'close');
    await waitFor(() => tb!.broker.stats().refused['tls-handshake-failed'] === 1, 'the refusal counted');
    good.send('fine');
    expect((await good.readFrame()).subarray(3).toString()).toBe('fine');
    expect(tb!.broker.stats().closed).toEqual({});
  });

  it('closes a TLS connection whose handshake has not finished within handshakeTimeoutMs, on tls:// and wss://', async () => {
    await startAll({ handshakeTimeoutMs: 300 });
    for (const i of [3, 5]) {
      // Taken before connecting: the deadline starts at the broker's accept (same process, which
      // may run it before this socket's 'connect' event on a loaded machine).
      const t0 = Date.now();
      const s = net.connect({ host: '127.0.0.1', port: portOf(i) });
      closers.push(() => s.destroy());
      s.on('error', () => {});
      await once(s, 'connect');
      s.write(Buffer.from([0x16, 0x03, 0x01])); // the first bytes of a ClientHello, and nothing more
      await once(s, 'close');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    }
    expect(tb!.broker.stats().refused).toEqual({ 'handshake-timeout': 2 });
  });

  it('counts a connection against maxConnectionsPerIp from its accept, before its TLS handshake', async () => {
    await startAll({ maxConnectionsPerIp: 1 });
    const pending = net.connect({ host: '127.0.0.1', port: portOf(2) });
    closers.push(() => pending.destroy());
    pending.on('error', () => {});
    await once(pending, 'connect');
    await waitFor(() => tb!.broker.stats().accepted === 1, 'the first accept');
    await expect(tlsSocket(2)).rejects.toThrow();
    expect(tb!.broker.stats().refused['max-connections-per-ip']).toBe(1);
  });

  it('refuses a certificate or key that does not load when the broker is created (tlsCert, tlsKey)', async () => {
    const garbage = writeTestFile(cert, 'garbage.pem', 'not a certificate');
    const other = makeTestCert();
    const create = (tlsCert: string, tlsKey: string) => startBroker({ plugin: ECHO_WASM, listen: ['tls://127.0.0.1:0'], tlsCert, tlsKey });
    try {
      await expect(create(garbage, cert.keyPath)).rejects.toMatchObject({ code: 'PB_ERR_INVALID_OPTION', option: 'tlsCert' });
      await expect(create(cert.certPath, garbage)).rejects.toMatchObject({ code: 'PB_ERR_INVALID_OPTION', option: 'tlsKey' });
      await expect(create(cert.certPath, other.keyPath)).rejects.toMatchObject({ code: 'PB_ERR_INVALID_OPTION', option: 'tlsKey' });
    } finally {
      other.remove();
    }
  });

  describe('broker serve flags', () => {
    async function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
      const proc = spawn(process.execPath, [BROKER_BIN, 'serve', '--plugin', ECHO_WASM, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      proc.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
      proc.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      const [code] = await once(proc, 'exit');
      clearTimeout(timer);
      return { code: code as number | null, stdout, stderr };
    }

    it.each([
      ['an invalid --listen URL', ['--listen', 'tcp://127.0.0.1']],
      ['a tls:// listener without --tls-cert', ['--listen', 'tls://127.0.0.1:0']],
      ['a certificate that does not load', ['--listen', 'wss://127.0.0.1:0/ws', '--tls-cert', 'README.md', '--tls-key', 'README.md']],
      ['--listen together with --port', ['--listen', 'tcp://127.0.0.1:0', '--port', '0']],
    ])('refuses %s with one line, exit code 2, before listening', async (_what, args) => {
      const r = await runCli(args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^broker: .*\[PB_ERR_INVALID_OPTION\]\n$/);
      expect(r.stdout).not.toContain('listening');
    });

    it('serves on every --listen given, with the certificate flags', async () => {
      const b = await spawnBroker([
        '--plugin',
        ECHO_WASM,
        '--listen',
        'tcp://127.0.0.1:0?framing=binary',
        '--listen',
        'wss://127.0.0.1:0/ws',
        '--tls-cert',
        cert.certPath,
        '--tls-key',
        cert.keyPath,
      ]);
      try {
        const urls = b.lines.find((l) => l.msg === 'listening')!.listeners as string[];
        expect(urls).toHaveLength(2);
        const c = await connectWs(urls[1].replace('wss://127.0.0.1', 'wss://localhost'), { ca: cert.cert });
        c.send('over wss');
        expect((await c.waitMessages(1))[0].toString()).toBe('over wss');
        c.close();
      } finally {
        b.kill();
      }
    });
  });
});
