/**
 * Framing errors close only the offending connection, log one line with a stable code, and lose
 * nothing that preceded the error.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connectClient, type TestClient } from '../helpers/client.js';
import { ECHO_WASM } from '../helpers/paths.js';

describe('protocol errors', () => {
  let tb: TestBroker | undefined;
  const clients: TestClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await tb?.stop();
  });
  const connect = async (port: number): Promise<TestClient> => {
    const c = await connectClient(port);
    clients.push(c);
    return c;
  };
  const errorLines = (code: string) => tb!.logs.filter((l) => l.code === code);

  it('closes a connection whose header is not a number while 50 others keep echoing', async () => {
    tb = await startBroker({ plugin: ECHO_WASM });
    const good = await Promise.all(Array.from({ length: 50 }, () => connect(tb!.port)));
    const bad = await connect(tb.port);
    good.forEach((c, i) => c.send(`before-${i}`));
    bad.write('2\nok');
    bad.write('hello\n');
    expect((await bad.readFrame()).toString()).toBe('ok'); // the frame before the error is answered
    await bad.waitClosed();
    good.forEach((c, i) => c.send(`after-${i}`));
    await Promise.all(
      good.map(async (c, i) => {
        expect((await c.waitFrames(2)).map(String)).toEqual([`before-${i}`, `after-${i}`]);
        expect(c.closed).toBe(false);
      }),
    );
    const lines = errorLines('PB_ERR_FRAME_BAD_LENGTH');
    expect(lines).toHaveLength(1);
    expect(lines[0].remote).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(tb.broker.stats().closed['protocol-error']).toBe(1);
  });

  it('refuses a length above maxFrameBytes as soon as the header ends, without waiting for the body', async () => {
    tb = await startBroker({ plugin: ECHO_WASM, maxFrameBytes: 1024 });
    const c = await connect(tb.port);
    c.send(Buffer.alloc(1024, 0x61)); // exactly the limit passes
    expect((await c.readFrame()).length).toBe(1024);
    c.write('1025\n'); // header only: the close must not wait for 1025 body bytes
    await c.waitClosed();
    expect(errorLines('PB_ERR_FRAME_TOO_LARGE')).toHaveLength(1);
  });

  it('closes a connection whose header has more than 10 digits', async () => {
    tb = await startBroker({ plugin: ECHO_WASM });
    const c = await connect(tb.port);
    c.write('12345678901');
    await c.waitClosed();
    expect(errorLines('PB_ERR_FRAME_HEADER_TOO_LONG')).toHaveLength(1);
  });

  it('refuses a declared 4 GB body at once (the original broker buffered it)', async () => {
    tb = await startBroker({ plugin: ECHO_WASM });
    const c = await connect(tb.port);
    c.write('4294967296\n');
    await c.waitClosed();
    expect(errorLines('PB_ERR_FRAME_TOO_LARGE')).toHaveLength(1);
  });
});
