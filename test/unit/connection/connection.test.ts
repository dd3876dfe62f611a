/**
 * `Connection` over a fake transport (issue #14 asks for it): framing in both stream framings and
 * as whole messages, reply batching per read and per tick, heartbeats with and without a transport
 * ping, protocol errors, slow consumers and close reasons, with no socket.
 */
import { describe, expect, it } from 'vitest';
import { Connection, type ConnectionEvents, type ConnectionPolicy } from '../../../host/connection/connection.js';
import { OutboundArena } from '../../../host/connection/outbound-arena.js';
import type { FrameError } from '../../../host/errors.js';
import { encodeBinaryFrame } from '../../../host/framing/binary-encoder.js';
import { encodeDecimalFrame } from '../../../host/framing/decimal-encoder.js';
import { WEBSOCKET_HEADER, headerCodecFor, type FrameHeaderCodec, type FramingName } from '../../../host/framing/frame-codec.js';
import { encodeWebsocketFrame } from '../../../host/framing/websocket-encoder.js';
import type { CloseReason } from '../../../host/plugin/world.js';
import type { Transport, TransportHandler } from '../../../host/transport/transport.js';

class FakeTransport implements Transport {
  readonly kind: 'tcp' | 'websocket';
  readonly secure: boolean;
  readonly inbound: FramingName | 'messages';
  readonly outbound: FrameHeaderCodec | null;
  readonly remoteAddress = '10.0.0.7';
  readonly remotePort = 5555;
  bufferedBytes = 0;
  handler: TransportHandler | undefined;
  /** Each write or writev call, as the list of buffers it got. */
  readonly writes: Buffer[][] = [];
  ended: CloseReason | 'no reason' | undefined;
  destroyed = false;
  paused = false;
  pings = 0;
  ping?: () => void;

  constructor(opts: { inbound?: FramingName | 'messages'; outbound?: FrameHeaderCodec | null; ping?: boolean; secure?: boolean } = {}) {
    this.inbound = opts.inbound ?? 'decimal';
    this.outbound = opts.outbound === undefined ? (this.inbound === 'messages' ? WEBSOCKET_HEADER : headerCodecFor(this.inbound)) : opts.outbound;
    this.kind = this.inbound === 'messages' ? 'websocket' : 'tcp';
    this.secure = opts.secure ?? false;
    if (opts.ping) this.ping = () => void this.pings++;
  }
  attach(handler: TransportHandler): void {
    this.handler = handler;
  }
  write(data: Buffer): void {
    this.writes.push([Buffer.from(data)]);
  }
  writev(data: readonly Buffer[]): void {
    this.writes.push(data.map((d) => Buffer.from(d)));
  }
  pause(): void {
    this.paused = true;
  }
  end(reason?: CloseReason): void {
    this.ended = reason ?? 'no reason';
  }
  destroy(): void {
    this.destroyed = true;
  }
  /** Everything written, concatenated. */
  get bytes(): Buffer {
    return Buffer.concat(this.writes.flat());
  }
}

const POLICY: ConnectionPolicy = Object.freeze({
  maxFrameBytes: 1024,
  maxOutboundBytes: 4096,
  closeLingerMs: 1000,
  rateFrames: 0,
  rateBytes: 0,
  rateBurst: 1,
  rateAction: 'close',
  authRequired: false,
  preAuthMaxFrames: 8,
  preAuthMaxBytes: 1024,
});

/** A connection whose plugin echoes every frame (as the broker would, synchronously). */
function setup(transport: FakeTransport, policy: Partial<ConnectionPolicy> = {}) {
  const log: string[] = [];
  const frames: string[] = [];
  let echo = true;
  const events: ConnectionEvents = {
    onFrame(conn, body) {
      frames.push(Buffer.from(body).toString());
      if (echo) conn.send(body, 0, body.length);
    },
    onClosed: (_c, reason) => void log.push(`closed:${reason}`),
    onProtocolError: (_c, err: FrameError) => void log.push(`protocol:${err.code}`),
    onLimit: (_c, what) => void log.push(`limit:${what}`),
    onTransportClosed: () => void log.push('transport-closed'),
  };
  const conn = new Connection(1, transport, events, { ...POLICY, ...policy }, new OutboundArena());
  conn.open();
  return { conn, log, frames, handler: transport.handler!, setEcho: (v: boolean) => (echo = v) };
}

const tick = (): Promise<void> => new Promise((r) => process.nextTick(r));

describe('Connection', () => {
  it('attaches to its transport at once and hands decoded frames to its owner only once open', () => {
    const t = new FakeTransport();
    const log: string[] = [];
    const conn = new Connection(1, t, { onFrame: (_c, b) => void log.push(Buffer.from(b).toString()) } as ConnectionEvents, POLICY, new OutboundArena());
    expect(t.handler).toBe(conn);
    t.handler!.onData(encodeDecimalFrame(Buffer.from('early')));
    conn.open();
    t.handler!.onData(encodeDecimalFrame(Buffer.from('late')));
    expect(log).toEqual(['late']);
  });

  it('writes every reply to one read chunk in one write, when the chunk is done', () => {
    const t = new FakeTransport();
    const { handler, frames } = setup(t);
    handler.onData(Buffer.from('1\na2\nbc3\ndef'));
    expect(frames).toEqual(['a', 'bc', 'def']);
    expect(t.writes).toHaveLength(1);
    expect(t.bytes.toString()).toBe('1\na2\nbc3\ndef');
  });

  describe('reuse of the outbound slab after a write', () => {
    /**
     * Counts every write as buffered until the test says it completed. A write made with nothing in
     * front is copied when `copiesWrites` (TLS encrypts it at once); any other write keeps a
     * reference to the caller's bytes (queued in the stream, or plain TCP with the kernel busy).
     */
    class HoldingTransport extends FakeTransport {
      readonly held: Buffer[] = [];
      /** The buffers as given to write (views into the slab). */
      readonly written: Buffer[] = [];
      declare copiesWrites: boolean;
      constructor(copiesWrites: boolean) {
        super();
        this.copiesWrites = copiesWrites;
      }
      override write(data: Buffer): void {
        this.written.push(data);
        this.held.push(this.copiesWrites && this.bufferedBytes === 0 ? Buffer.from(data) : data);
        this.bufferedBytes += data.length;
      }
    }
    /** Where each write's bytes sit in the shared slab. */
    const offsets = (t: HoldingTransport) => t.written.map((b) => b.byteOffset);

    it('reuses the range at once when the transport copies its writes (TLS) and nothing was queued before', () => {
      const t = new HoldingTransport(true);
      const { handler } = setup(t, { maxOutboundBytes: 1 << 20 });
      handler.onData(Buffer.from('1\na'));
      t.bufferedBytes = 0; // the first write completed
      handler.onData(Buffer.from('1\nb'));
      expect(offsets(t)[1]).toBe(offsets(t)[0]);
    });

    it('keeps the range while a write is still queued in front (the buffer may not be consumed yet)', () => {
      const t = new HoldingTransport(true);
      const { handler } = setup(t, { maxOutboundBytes: 1 << 20 });
      handler.onData(Buffer.from('1\na'));
      handler.onData(Buffer.from('1\nb'));
      handler.onData(Buffer.from('1\nc'));
      // The first write released its range (nothing was in front of it); the second had the first
      // still buffered in front, so the third must not overwrite it.
      expect(offsets(t)[1]).toBe(offsets(t)[0]);
      expect(offsets(t)[2]).not.toBe(offsets(t)[1]);
      expect(t.held.map((b) => b.toString())).toEqual(['1\na', '1\nb', '1\nc']);
    });

    it('keeps the range when a transport that does not copy still holds the bytes (plain TCP, kernel busy)', () => {
      const t = new HoldingTransport(false);
      const { handler } = setup(t, { maxOutboundBytes: 1 << 20 });
      handler.onData(Buffer.from('1\na'));
      handler.onData(Buffer.from('1\nb'));
      expect(offsets(t)[1]).not.toBe(offsets(t)[0]);
      expect(t.held.map((b) => b.toString())).toEqual(['1\na', '1\nb']);
    });
  });

  it('flushes frames sent outside a read (pushes) once per tick, in one write', async () => {
    const t = new FakeTransport();
    const { conn } = setup(t);
    conn.send(Buffer.from('x'), 0, 1);
    conn.send(Buffer.from('yz'), 0, 2);
    expect(t.writes).toHaveLength(0);
    await tick();
    expect(t.writes).toHaveLength(1);
    expect(t.bytes.toString()).toBe('1\nx2\nyz');
  });

  it('speaks the binary framing both ways on a binary transport', () => {
    const t = new FakeTransport({ inbound: 'binary' });
    const { handler, frames } = setup(t);
    handler.onData(Buffer.concat([encodeBinaryFrame(Buffer.from('hi')), encodeBinaryFrame(Buffer.from('yo'))]));
    expect(frames).toEqual(['hi', 'yo']);
    expect(t.bytes.toString('hex')).toBe(Buffer.concat([encodeBinaryFrame(Buffer.from('hi')), encodeBinaryFrame(Buffer.from('yo'))]).toString('hex'));
  });

  it('takes whole messages from a message transport and sends the replies of one read as WebSocket frames in one write, at the end of the tick', async () => {
    const t = new FakeTransport({ inbound: 'messages' });
    const { handler, frames } = setup(t);
    handler.onMessage(Buffer.from('one'));
    handler.onMessage(Buffer.from('two'));
    expect(frames).toEqual(['one', 'two']);
    expect(t.writes).toHaveLength(0);
    await tick();
    expect(t.writes).toHaveLength(1);
    expect(t.bytes.toString('hex')).toBe(Buffer.concat([encodeWebsocketFrame(Buffer.from('one')), encodeWebsocketFrame(Buffer.from('two'))]).toString('hex'));
  });

  it('hands a transport that frames its own messages (outbound null) one body per Buffer', async () => {
    const t = new FakeTransport({ inbound: 'messages', outbound: null });
    const { handler } = setup(t);
    handler.onMessage(Buffer.from('a'));
    handler.onMessage(Buffer.from('bc'));
    await tick();
    expect(t.writes.map((w) => w.map(String))).toEqual([['a', 'bc']]);
  });

  it('re-encodes group frames (a decimal run) for its own wire', async () => {
    const run = Buffer.concat([encodeDecimalFrame(Buffer.from('g1')), encodeDecimalFrame(Buffer.from('g2'))]);
    const bin = new FakeTransport({ inbound: 'binary' });
    setup(bin).conn.sendEncoded(run);
    const msgs = new FakeTransport({ inbound: 'messages', outbound: null });
    setup(msgs).conn.sendEncoded(run);
    const dec = new FakeTransport();
    setup(dec).conn.sendEncoded(run);
    await tick();
    expect(bin.bytes.toString('hex')).toBe(Buffer.concat([encodeBinaryFrame(Buffer.from('g1')), encodeBinaryFrame(Buffer.from('g2'))]).toString('hex'));
    expect(msgs.writes.map((w) => w.map(String))).toEqual([['g1', 'g2']]);
    expect(dec.bytes).toEqual(run);
  });

  describe('heartbeats', () => {
    it('answers an empty frame with one, and never hands it to its owner', () => {
      const t = new FakeTransport();
      const { handler, frames } = setup(t);
      handler.onData(Buffer.from('0\n'));
      expect(frames).toEqual([]);
      expect(t.bytes.toString()).toBe('0\n');
    });

    it("pings with an empty frame and takes the peer's next empty frame as the answer", async () => {
      const t = new FakeTransport();
      const { conn, handler } = setup(t);
      conn.sendPing();
      await tick();
      expect(t.bytes.toString()).toBe('0\n');
      handler.onData(Buffer.from('0\n'));
      expect(t.bytes.toString()).toBe('0\n'); // not answered
      handler.onData(Buffer.from('0\n'));
      expect(t.bytes.toString()).toBe('0\n0\n'); // a heartbeat of the peer's own: answered
    });

    it("pings with the transport's own ping when it has one (WebSocket), and still answers every empty message", async () => {
      const t = new FakeTransport({ inbound: 'messages', ping: true });
      const { conn, handler } = setup(t);
      conn.sendPing();
      expect(t.pings).toBe(1);
      handler.onMessage(new Uint8Array(0));
      await tick();
      expect(t.bytes.toString('hex')).toBe('8200');
    });

    it('counts a pong (onLife) as life', () => {
      const t = new FakeTransport({ inbound: 'messages', ping: true });
      const { conn, handler } = setup(t);
      conn.lastFrameMs = 0;
      handler.onLife();
      expect(conn.lastFrameMs).toBeGreaterThan(0);
    });
  });

  it('closes with protocol-error after answering the frames before a decoding error', () => {
    const t = new FakeTransport();
    const { handler, log } = setup(t);
    handler.onData(Buffer.from('2\nokx'));
    expect(t.bytes.toString()).toBe('2\nok');
    expect(log).toEqual(['protocol:PB_ERR_FRAME_BAD_LENGTH', 'closed:protocol-error']);
    expect(t.ended).toBe('protocol-error');
    expect(t.paused).toBe(true);
  });

  it("closes with protocol-error when the transport reports its own framing broken (ws's errors)", () => {
    const t = new FakeTransport({ inbound: 'messages' });
    const { handler, log } = setup(t);
    handler.onProtocolError({ code: 'PB_ERR_WS_PROTOCOL', message: 'bad opcode', offset: 0 } as FrameError);
    expect(log).toEqual(['protocol:PB_ERR_WS_PROTOCOL', 'closed:protocol-error']);
    handler.onMessage(Buffer.from('after'));
    expect(t.writes).toHaveLength(0);
  });

  it('counts what the transport still buffers against maxOutboundBytes: past it, send returns false and the connection is destroyed (slow-consumer)', () => {
    const t = new FakeTransport({ inbound: 'messages' });
    const { conn, log } = setup(t, { maxOutboundBytes: 100 });
    t.bufferedBytes = 90;
    expect(conn.send(Buffer.alloc(5), 0, 5)).toBe(true); // 90 + 2 + 5
    expect(conn.send(Buffer.alloc(5), 0, 5)).toBe(false);
    expect(log).toEqual(['limit:slow-consumer', 'closed:slow-consumer']);
    expect(t.destroyed).toBe(true);
  });

  it('tells the transport the close reason (the WebSocket close code), after flushing what is queued', () => {
    const t = new FakeTransport({ inbound: 'messages' });
    const { conn } = setup(t);
    conn.send(Buffer.from('bye'), 0, 3);
    conn.close('auth-timeout');
    expect(t.bytes.toString('hex')).toBe(encodeWebsocketFrame(Buffer.from('bye')).toString('hex'));
    expect(t.ended).toBe('auth-timeout');
    expect(conn.state).toBe('closing');
  });

  it('stops delivering messages once it stopped reading (drain)', () => {
    const t = new FakeTransport({ inbound: 'messages' });
    const { conn, handler, frames } = setup(t);
    conn.stopReading();
    handler.onMessage(Buffer.from('late'));
    expect(frames).toEqual([]);
    expect(t.paused).toBe(true);
  });

  it('reports the transport kind and whether it is secure in its peer info', () => {
    expect(setup(new FakeTransport({ inbound: 'messages', secure: true })).conn.peerInfo(false)).toEqual({
      address: '10.0.0.7',
      port: 5555,
      transport: 'websocket',
      secure: true,
      resumed: false,
    });
    expect(setup(new FakeTransport()).conn.peerInfo(true)).toMatchObject({ transport: 'tcp', secure: false, resumed: true });
  });

  it('becomes closed and tells its owner once when the transport closes', () => {
    const t = new FakeTransport();
    const { conn, handler, log } = setup(t);
    handler.onClose();
    expect(conn.state).toBe('closed');
    expect(log).toEqual(['closed:peer-closed', 'transport-closed']);
  });
});
