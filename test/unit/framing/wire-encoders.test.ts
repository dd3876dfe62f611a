/**
 * The binary and WebSocket encoders (byte literals; the WebSocket header checked against ws's own
 * `Sender.frame`), the header codecs, and the re-encoding of decimal runs for other wires.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as wsModule from 'ws';
import { BinaryDecoder } from '../../../host/framing/binary-decoder.js';
import { BINARY_HEADER_BYTES, encodeBinaryFrame } from '../../../host/framing/binary-encoder.js';
import { encodeDecimalFrame } from '../../../host/framing/decimal-encoder.js';
import { BINARY_HEADER, DECIMAL_HEADER, WEBSOCKET_HEADER, headerCodecFor } from '../../../host/framing/frame-codec.js';
import { bodiesOfDecimalRun, transcodeDecimalRun } from '../../../host/framing/transcode.js';
import { encodeWebsocketFrame, websocketHeaderBytes } from '../../../host/framing/websocket-encoder.js';

// ws exports its Sender at run time; @types/ws does not declare it.
const { Sender } = wsModule as unknown as { Sender: { frame(data: Buffer, opts: Record<string, unknown>): Buffer[] } };

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** What ws's sender writes for one final, unmasked, uncompressed binary message. */
function wsFrame(body: Buffer): Buffer {
  return Buffer.concat(Sender.frame(body, { fin: true, opcode: 2, mask: false, readOnly: false, rsv1: false }));
}

describe('encodeBinaryFrame', () => {
  it('encodes "hi" as 00 00 00 02 68 69 and an empty body as four zero bytes', () => {
    expect(hex(encodeBinaryFrame(Buffer.from('hi')))).toBe('000000026869');
    expect(hex(encodeBinaryFrame(Buffer.alloc(0)))).toBe('00000000');
    expect(BINARY_HEADER.headerBytes(123456)).toBe(BINARY_HEADER_BYTES);
  });

  it('writes lengths above 2^24 big-endian', () => {
    const out = Buffer.alloc(4);
    BINARY_HEADER.writeHeader(out, 0, 0x0a0b0c0d);
    expect(hex(out)).toBe('0a0b0c0d');
  });
});

describe('encodeWebsocketFrame', () => {
  it('uses the 7-bit, 16-bit and 64-bit length forms at their boundaries (RFC 6455 §5.2)', () => {
    expect(hex(encodeWebsocketFrame(Buffer.from('hi')))).toBe('82026869');
    expect(websocketHeaderBytes(125)).toBe(2);
    expect(websocketHeaderBytes(126)).toBe(4);
    expect(hex(encodeWebsocketFrame(Buffer.alloc(126)).subarray(0, 4))).toBe('827e007e');
    expect(websocketHeaderBytes(65535)).toBe(4);
    expect(websocketHeaderBytes(65536)).toBe(10);
    expect(hex(encodeWebsocketFrame(Buffer.alloc(65536)).subarray(0, 10))).toBe('827f0000000000010000');
  });

  it('writes the same bytes as ws Sender.frame for any body, at every length form', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 130 }),
          fc.integer({ min: 65530, max: 70000 }).map((n) => new Uint8Array(n).fill(9)),
        ),
        (body) => {
          expect(hex(encodeWebsocketFrame(body))).toBe(hex(wsFrame(Buffer.from(body))));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('writes a 64-bit length above 2^32 with its high word', () => {
    const out = Buffer.alloc(10);
    WEBSOCKET_HEADER.writeHeader(out, 0, 2 ** 32 + 5);
    expect(hex(out)).toBe('827f0000000100000005');
  });
});

describe('header codecs', () => {
  it('names each stream framing by its codec', () => {
    expect(headerCodecFor('decimal')).toBe(DECIMAL_HEADER);
    expect(headerCodecFor('binary')).toBe(BINARY_HEADER);
    const out = Buffer.alloc(8);
    expect(DECIMAL_HEADER.writeHeader(out, 0, 42)).toBe(3);
    expect(out.subarray(0, 3).toString()).toBe('42\n');
  });
});

describe('transcodeDecimalRun', () => {
  const run = Buffer.concat(['one', '', 'x'.repeat(300)].map((s) => encodeDecimalFrame(Buffer.from(s))));

  it('returns a decimal run unchanged for decimal members', () => {
    expect(transcodeDecimalRun(run, DECIMAL_HEADER)).toBe(run);
  });

  it('re-encodes every frame behind binary and WebSocket headers, bodies unchanged', () => {
    const bodies = ['one', '', 'x'.repeat(300)].map((s) => Buffer.from(s));
    expect(hex(transcodeDecimalRun(run, BINARY_HEADER))).toBe(hex(Buffer.concat(bodies.map((b) => encodeBinaryFrame(b)))));
    expect(hex(transcodeDecimalRun(run, WEBSOCKET_HEADER))).toBe(hex(Buffer.concat(bodies.map((b) => encodeWebsocketFrame(b)))));
    expect(bodiesOfDecimalRun(run).map(String)).toEqual(bodies.map(String));
  });

  it('re-encodes a run once per wire however many members ask (the same Buffer back)', () => {
    const a = transcodeDecimalRun(run, BINARY_HEADER);
    expect(transcodeDecimalRun(run, WEBSOCKET_HEADER)).not.toBe(a);
    expect(transcodeDecimalRun(run, BINARY_HEADER)).toBe(a);
    expect(bodiesOfDecimalRun(run)).toBe(bodiesOfDecimalRun(run));
    const other = Buffer.from(run);
    expect(transcodeDecimalRun(other, BINARY_HEADER)).not.toBe(a);
  });

  it('round-trips any run through the binary decoder', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { minLength: 1, maxLength: 10 }), (bodies) => {
        const decimal = Buffer.concat(bodies.map((b) => encodeDecimalFrame(b)));
        const got: string[] = [];
        new BinaryDecoder({ onFrame: (b) => got.push(hex(b)) }, 1024).push(transcodeDecimalRun(decimal, BINARY_HEADER));
        expect(got).toEqual(bodies.map(hex));
      }),
      { numRuns: 100 },
    );
  });
});
