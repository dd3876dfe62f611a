/**
 * The AssemblyScript echo plugin over real TCP: framing edge cases and concurrency.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeDecimalFrame } from '../../host/framing/decimal-encoder.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connectClient, type TestClient } from '../helpers/client.js';
import { ECHO_WASM } from '../helpers/paths.js';

describe('broker serving echo.wasm', () => {
  let tb: TestBroker;
  const clients: TestClient[] = [];
  const connect = async (): Promise<TestClient> => {
    const c = await connectClient(tb.port);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    tb = await startBroker({ plugin: ECHO_WASM });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await tb.stop();
  });

  it('answers telnet-style CRLF input with a framed echo', async () => {
    const c = await connect();
    c.write('5\r\nhello\r\n');
    expect((await c.readFrame()).toString()).toBe('hello');
    expect(Buffer.concat(c.raw).toString()).toBe('5\nhello');
  });

  it('echoes 1000 frames sent in one write, in order', async () => {
    const c = await connect();
    const bodies = Array.from({ length: 1000 }, (_, i) => `msg-${i}`);
    c.write(Buffer.concat(bodies.map((b) => encodeDecimalFrame(Buffer.from(b)))));
    const frames = await c.waitFrames(1000);
    expect(frames.map(String)).toEqual(bodies);
  });

  it('echoes a frame written one byte at a time', async () => {
    const c = await connect();
    const bytes = encodeDecimalFrame(Buffer.from('byte by byte'));
    for (const b of bytes) {
      c.write(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    expect((await c.readFrame()).toString()).toBe('byte by byte');
  });

  it('echoes a body holding all 256 byte values, after the broker answered a heartbeat', async () => {
    const c = await connect();
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    c.send(Buffer.alloc(0));
    c.send(all);
    const [empty, bin] = await c.waitFrames(2);
    expect(empty.length).toBe(0);
    expect(bin.equals(all)).toBe(true);
  });

  it('echoes 64 KiB bodies intact', async () => {
    const c = await connect();
    const body = Buffer.alloc(64 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) & 0xff;
    c.send(body);
    c.send(body.subarray(1));
    const [a, b] = await c.waitFrames(2);
    expect(a.equals(body)).toBe(true);
    expect(b.equals(body.subarray(1))).toBe(true);
  });

  it('keeps 500 concurrent connections echoing in order', async () => {
    const conns = await Promise.all(Array.from({ length: 500 }, () => connect()));
    const perConn = 20;
    conns.forEach((c, i) => {
      for (let j = 0; j < perConn; j++) c.send(`${i}:${j}`);
    });
    await Promise.all(
      conns.map(async (c, i) => {
        const frames = await c.waitFrames(perConn, 20_000);
        expect(frames.map(String)).toEqual(Array.from({ length: perConn }, (_, j) => `${i}:${j}`));
      }),
    );
    expect(tb.broker.stats().live).toBe(500);
  });

  it('answers frames a peer sent before half-closing, then closes (peer-closed)', async () => {
    const c = await connect();
    c.write('3\nabc4\ndefg');
    c.socket.end();
    const frames = await c.waitFrames(2);
    expect(frames.map(String)).toEqual(['abc', 'defg']);
    await c.waitClosed();
    expect(tb.broker.stats().closed['peer-closed']).toBe(1);
  });
});
