/**
 * Unit tests of the `<len>\n<body>` decoder: byte literals for every error code (after ws
 * test/receiver.test.js) and a split-everywhere property (the nats.js byByteTest, generalised with
 * fast-check to any chunking of any frame sequence).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BrokerError, FrameBadLengthError, FrameError, FrameHeaderTooLongError, FrameTooLargeError, type ErrorCode } from '../../../host/errors.js';
import { DecimalDecoder } from '../../../host/framing/decimal-decoder.js';
import { DEFAULT_MAX_FRAME_BYTES, MAX_LENGTH_DIGITS } from '../../../host/limits.js';

/** Bytes from a hex string; spaces are ignored (`hex('35 0a 68')`). */
function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

function ascii(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

interface Run {
  decoder: DecimalDecoder;
  /** Copies of the delivered bodies (the decoder may hand out views into pushed chunks). */
  frames: Buffer[];
}

function decoderWith(maxFrameBytes = 1024, onFrame?: (body: Buffer, run: Run) => void): Run {
  const run: Run = { frames: [], decoder: undefined as unknown as DecimalDecoder };
  run.decoder = new DecimalDecoder(
    {
      onFrame(body) {
        run.frames.push(Buffer.from(body));
        onFrame?.(body, run);
      },
    },
    maxFrameBytes,
  );
  return run;
}

interface Outcome {
  frames: Buffer[];
  error: FrameError | null;
}

/** Pushes `chunks` in order; stops at the first error, as a connection would. */
function decode(chunks: readonly Buffer[], maxFrameBytes: number): Outcome {
  const run = decoderWith(maxFrameBytes);
  let error: FrameError | null = null;
  for (const chunk of chunks) {
    error = run.decoder.push(chunk);
    if (error) break;
  }
  return { frames: run.frames, error };
}

/** Splits `bytes` at the given positions (any order, duplicates allowed: empty chunks are pushed too). */
function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...cuts].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(prev, p));
    prev = p;
  }
  chunks.push(bytes.subarray(prev));
  return chunks;
}

function byteByByte(bytes: Buffer): Buffer[] {
  return Array.from(bytes, (b) => Buffer.from([b]));
}

const strings = (frames: Buffer[]): string[] => frames.map((f) => f.toString('latin1'));
/** Hex of each body: compares in microseconds where deep equality of Buffers takes milliseconds. */
const hexes = (frames: readonly Uint8Array[]): string[] => frames.map((f) => Buffer.from(f).toString('hex'));

/** Every body byte value 0x00–0xff once, including `\n`, `\r` and the digits. */
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('DecimalDecoder', () => {
  describe('valid streams', () => {
    it('decodes one frame given as hex bytes', () => {
      const run = decoderWith();
      expect(run.decoder.push(hex('35 0a 68 65 6c 6c 6f'))).toBeNull(); // "5\nhello"
      expect(strings(run.frames)).toEqual(['hello']);
    });

    it('accepts telnet CRLF input: "5\\r\\nhello\\r\\n" is one frame', () => {
      const run = decoderWith();
      expect(run.decoder.push(hex('35 0d 0a 68 65 6c 6c 6f 0d 0a'))).toBeNull();
      expect(strings(run.frames)).toEqual(['hello']);
    });

    it('accepts telnet lines typed one by one', () => {
      const run = decoderWith();
      for (const line of ['5\r\n', 'hello\r\n', '3\r\n', 'abc\r\n']) expect(run.decoder.push(ascii(line))).toBeNull();
      expect(strings(run.frames)).toEqual(['hello', 'abc']);
    });

    it('ignores blank lines (LF and CRLF) before, between and after frames', () => {
      const run = decoderWith();
      expect(run.decoder.push(ascii('\n\r\n3\nabc\r\n\n\r\n2\r\nde\n\n\r\n'))).toBeNull();
      expect(strings(run.frames)).toEqual(['abc', 'de']);
    });

    it('delivers a zero-length frame as an empty body', () => {
      const run = decoderWith();
      expect(run.decoder.push(ascii('0\n'))).toBeNull();
      expect(run.frames).toHaveLength(1);
      expect(run.frames[0].length).toBe(0);
    });

    it('delivers zero-length frames between other frames without consuming the next header', () => {
      const run = decoderWith();
      expect(run.decoder.push(ascii('0\n1\na0\r\n0\n2\nbc0\n'))).toBeNull();
      expect(strings(run.frames)).toEqual(['', 'a', '', '', 'bc', '']);
    });

    it('passes all 256 byte values through a body unchanged, newline and digits included', () => {
      const run = decoderWith();
      expect(run.decoder.push(Buffer.concat([ascii('256\n'), ALL_BYTES, ascii('1\n\n')]))).toBeNull();
      expect(run.frames).toHaveLength(2);
      expect(run.frames[0].equals(ALL_BYTES)).toBe(true);
      expect(strings([run.frames[1]])).toEqual(['\n']);
    });

    it('reassembles a body split across many chunks of varying size', () => {
      const run = decoderWith();
      const stream = Buffer.concat([ascii('256\n'), ALL_BYTES]);
      const cuts: number[] = [];
      for (let p = 1, step = 1; p < stream.length; p += step++) cuts.push(p);
      const chunks = splitAt(stream, cuts);
      expect(chunks.length).toBeGreaterThan(20);
      for (const [k, chunk] of chunks.entries()) {
        expect(run.decoder.push(chunk)).toBeNull();
        // Nothing is delivered before the last body byte arrives.
        expect(run.frames).toHaveLength(k === chunks.length - 1 ? 1 : 0);
      }
      expect(run.frames[0].equals(ALL_BYTES)).toBe(true);
    });

    it('decodes a stream pushed byte by byte, header digits and CRLF included', () => {
      const run = decoderWith();
      for (const chunk of byteByByte(ascii('12\r\nhello world!\r\n0\n3\nxyz'))) expect(run.decoder.push(chunk)).toBeNull();
      expect(strings(run.frames)).toEqual(['hello world!', '', 'xyz']);
    });

    it('delivers every frame of a chunk, in order, before push returns', () => {
      const bodies = Array.from({ length: 100 }, (_, i) => `frame-${i}`);
      const run = decoderWith();
      expect(run.decoder.push(ascii(bodies.map((b) => `${b.length}\n${b}`).join('')))).toBeNull();
      expect(strings(run.frames)).toEqual(bodies);
    });

    it('accepts a length header of exactly MAX_LENGTH_DIGITS digits', () => {
      const run = decoderWith();
      expect(run.decoder.push(ascii(`${'3'.padStart(MAX_LENGTH_DIGITS, '0')}\nabc`))).toBeNull();
      expect(strings(run.frames)).toEqual(['abc']);
    });

    it('accepts a body of exactly maxFrameBytes', () => {
      const run = decoderWith(4);
      expect(run.decoder.push(ascii('4\nabcd'))).toBeNull();
      expect(strings(run.frames)).toEqual(['abcd']);
    });

    it('treats an empty chunk as no input, also mid-header and mid-body', () => {
      const run = decoderWith();
      for (const s of ['', '1', '', '0', '\r', '', '\n', '', 'abcde', '', 'fghij', '']) expect(run.decoder.push(ascii(s))).toBeNull();
      expect(strings(run.frames)).toEqual(['abcdefghij']);
    });
  });

  describe('protocol errors', () => {
    function expectCode(error: FrameError | null, code: ErrorCode): FrameError {
      expect(error).toBeInstanceOf(FrameError);
      expect(error).toBeInstanceOf(BrokerError);
      expect(error!.code).toBe(code);
      return error!;
    }

    it.each([
      ['a letter instead of a length', '68 65 6c 6c 6f 0a', 0x68, 0],
      ['a letter after digits', '35 78 0a', 0x78, 1],
      ['a space before the length', '20 35 0a', 0x20, 0],
      ['a sign', '2d 31 0a', 0x2d, 0],
      ['a NUL byte', '31 00 0a', 0x00, 1],
      ['a byte above 0x7f', '31 ff 0a', 0xff, 1],
    ])('reports PB_ERR_FRAME_BAD_LENGTH for %s in the header', (_what, bytes, byte, offset) => {
      const run = decoderWith();
      const err = expectCode(run.decoder.push(hex(bytes)), 'PB_ERR_FRAME_BAD_LENGTH');
      expect(err).toBeInstanceOf(FrameBadLengthError);
      expect((err as FrameBadLengthError).byte).toBe(byte);
      expect(err.offset).toBe(offset);
      expect(run.frames).toEqual([]);
    });

    it.each([
      ['after the digits', '35 0d 68 65 6c 6c 6f', 0x68, 2], // "5\rhello"
      ['on a blank line', '0d 35 0a', 0x35, 1], // "\r5\n"
      ['twice', '35 0d 0d 0a', 0x0d, 2], // "5\r\r\n"
    ])('reports PB_ERR_FRAME_BAD_LENGTH for \\r not followed by \\n %s', (_what, bytes, byte, offset) => {
      const run = decoderWith();
      const err = expectCode(run.decoder.push(hex(bytes)), 'PB_ERR_FRAME_BAD_LENGTH');
      expect((err as FrameBadLengthError).byte).toBe(byte);
      expect(err.offset).toBe(offset);
    });

    it('reports a bad byte after \\r that arrives in the next chunk, with its stream offset', () => {
      const run = decoderWith();
      expect(run.decoder.push(ascii('2\nok5\r'))).toBeNull();
      const err = expectCode(run.decoder.push(ascii('x')), 'PB_ERR_FRAME_BAD_LENGTH');
      expect(err.offset).toBe(6);
      expect(strings(run.frames)).toEqual(['ok']);
    });

    it('reports PB_ERR_FRAME_HEADER_TOO_LONG at the 11th digit, without waiting for the newline', () => {
      const run = decoderWith();
      expect(run.decoder.push(ascii('1234567890'))).toBeNull();
      const err = expectCode(run.decoder.push(ascii('1')), 'PB_ERR_FRAME_HEADER_TOO_LONG');
      expect(err).toBeInstanceOf(FrameHeaderTooLongError);
      expect((err as FrameHeaderTooLongError).limit).toBe(MAX_LENGTH_DIGITS);
      expect(err.offset).toBe(10);
    });

    it('reports PB_ERR_FRAME_HEADER_TOO_LONG for 11 digits even when they are leading zeros', () => {
      const run = decoderWith();
      expectCode(run.decoder.push(hex('30 30 30 30 30 30 30 30 30 30 31 0a 61')), 'PB_ERR_FRAME_HEADER_TOO_LONG');
      expect(run.frames).toEqual([]);
    });

    it('rejects a length above maxFrameBytes before reading the body', () => {
      const run = decoderWith(10);
      // The chunk ends with the header line: no body byte has been pushed yet.
      const err = expectCode(run.decoder.push(ascii('11\n')), 'PB_ERR_FRAME_TOO_LARGE');
      expect(err).toBeInstanceOf(FrameTooLargeError);
      expect((err as FrameTooLargeError).declared).toBe(11);
      expect((err as FrameTooLargeError).limit).toBe(10);
      expect(err.offset).toBe(3);
    });

    it('rejects a length above maxFrameBytes at the \\n of a CRLF header split across chunks', () => {
      const run = decoderWith(10);
      expect(run.decoder.push(ascii('1'))).toBeNull();
      expect(run.decoder.push(ascii('1'))).toBeNull();
      expect(run.decoder.push(ascii('\r'))).toBeNull();
      expectCode(run.decoder.push(ascii('\n')), 'PB_ERR_FRAME_TOO_LARGE');
    });

    it('reports a 10-digit length above maxFrameBytes as too large, not as a long header', () => {
      const run = decoderWith(DEFAULT_MAX_FRAME_BYTES);
      const err = expectCode(run.decoder.push(ascii('9999999999\n')), 'PB_ERR_FRAME_TOO_LARGE');
      expect((err as FrameTooLargeError).declared).toBe(9_999_999_999);
    });

    it.each([
      ['PB_ERR_FRAME_BAD_LENGTH', '3\nabc\r\n0\n2\nde\nx\n1\nz'],
      ['PB_ERR_FRAME_HEADER_TOO_LONG', '3\nabc\r\n0\n2\nde99999999999\n1\nz'],
      ['PB_ERR_FRAME_TOO_LARGE', '3\nabc\r\n0\n2\nde11\n12345678901\n1\nz'],
    ] as const)('delivers the frames before a %s error and none after it', (code, stream) => {
      const run = decoderWith(10);
      expectCode(run.decoder.push(ascii(stream)), code);
      expect(strings(run.frames)).toEqual(['abc', '', 'de']);
    });

    it.each([
      ['PB_ERR_FRAME_BAD_LENGTH', 'x'],
      ['PB_ERR_FRAME_HEADER_TOO_LONG', '12345678901'],
      ['PB_ERR_FRAME_TOO_LARGE', '11\n'],
    ] as const)('returns the same %s error for every later chunk and delivers nothing more', (code, bad) => {
      const run = decoderWith(10);
      const first = expectCode(run.decoder.push(ascii(bad)), code);
      for (const later of ['1\na', '', '\n', 'x', '11\n']) expect(run.decoder.push(ascii(later))).toBe(first);
      expect(run.frames).toEqual([]);
    });

    it('stays failed after halt()', () => {
      const run = decoderWith();
      const first = run.decoder.push(ascii('x'));
      run.decoder.halt();
      expect(run.decoder.push(ascii('1\na'))).toBe(first);
    });
  });

  describe('halt()', () => {
    it('stops delivery in the middle of a chunk when called from onFrame', () => {
      const run = decoderWith(1024, (_body, r) => r.decoder.halt());
      expect(run.decoder.push(ascii('1\na1\nb1\nc'))).toBeNull();
      expect(strings(run.frames)).toEqual(['a']);
      expect(run.decoder.push(ascii('1\nd'))).toBeNull();
      expect(strings(run.frames)).toEqual(['a']);
    });

    it('stops delivery after a zero-length frame when called from onFrame', () => {
      const run = decoderWith(1024, (_body, r) => r.decoder.halt());
      expect(run.decoder.push(ascii('0\n0\n1\na'))).toBeNull();
      expect(run.frames).toHaveLength(1);
    });

    it('stops after the frame whose handler called it, the earlier ones delivered', () => {
      let seen = 0;
      const run = decoderWith(1024, (_body, r) => {
        if (++seen === 3) r.decoder.halt();
      });
      expect(run.decoder.push(ascii('1\na1\nb1\nc1\nd1\ne'))).toBeNull();
      expect(strings(run.frames)).toEqual(['a', 'b', 'c']);
    });

    it('drops a partly received body', () => {
      const run = decoderWith();
      expect(run.decoder.push(ascii('5\nhe'))).toBeNull();
      run.decoder.halt();
      expect(run.decoder.push(ascii('llo1\nx'))).toBeNull();
      expect(run.frames).toEqual([]);
    });

    it('reports no error for malformed input pushed after it', () => {
      const run = decoderWith();
      run.decoder.halt();
      expect(run.decoder.push(ascii('not a frame'))).toBeNull();
    });
  });

  describe('properties', () => {
    /** What may sit between two frames: nothing, or blank lines. */
    const separator = fc.constantFrom('', '\n', '\r\n', '\n\n', '\r\n\r\n', '\n\r\n');
    const frameSpec = fc.record({
      body: fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 100, maxLength: 400 })),
      eol: fc.constantFrom('\n', '\r\n'),
      before: separator,
    });
    /** Cut points as fractions of the stream length, or the byte-by-byte split. */
    const chunking = fc.oneof(
      { weight: 1, arbitrary: fc.constant('bytes' as const) },
      { weight: 4, arbitrary: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 }) },
    );

    function chunk(stream: Buffer, how: 'bytes' | number[]): Buffer[] {
      return how === 'bytes'
        ? byteByByte(stream)
        : splitAt(
            stream,
            how.map((f) => Math.floor(f * stream.length)),
          );
    }

    it('decodes any chunking of any frame sequence exactly like one-shot decoding', () => {
      fc.assert(
        fc.property(fc.array(frameSpec, { maxLength: 12 }), separator, chunking, (specs, trailer, how) => {
          const stream = Buffer.concat([...specs.flatMap((s) => [ascii(s.before), ascii(`${s.body.length}${s.eol}`), Buffer.from(s.body)]), ascii(trailer)]);
          const bodies = specs.map((s) => Buffer.from(s.body));
          // The largest body sits exactly at the limit.
          const maxFrameBytes = Math.max(1, ...bodies.map((b) => b.length));
          const oneShot = decode([stream], maxFrameBytes);
          const chunked = decode(chunk(stream, how), maxFrameBytes);
          expect(oneShot.error).toBeNull();
          expect(chunked.error).toBeNull();
          expect(hexes(chunked.frames)).toEqual(hexes(oneShot.frames));
          expect(hexes(oneShot.frames)).toEqual(hexes(bodies));
        }),
        { numRuns: 300 },
      );
    });

    /** Random bytes, biased towards the ones the header grammar cares about. */
    const hostileStream = fc
      .array(
        fc.oneof(
          { weight: 3, arbitrary: fc.integer({ min: 0x30, max: 0x39 }) },
          { weight: 2, arbitrary: fc.constantFrom(0x0a, 0x0d) },
          { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
        ),
        { maxLength: 200 },
      )
      .map((bytes) => Buffer.from(bytes));

    const CODES: readonly string[] = ['PB_ERR_FRAME_BAD_LENGTH', 'PB_ERR_FRAME_HEADER_TOO_LONG', 'PB_ERR_FRAME_TOO_LARGE'];

    it('turns any byte stream into frames or exactly one coded FrameError, whatever the chunking', () => {
      fc.assert(
        fc.property(hostileStream, fc.integer({ min: 0, max: 32 }), chunking, (stream, maxFrameBytes, how) => {
          const run = decoderWith(maxFrameBytes);
          let error: FrameError | null = null;
          let framesAtError = 0;
          // Every chunk is pushed, also after the error: a throw of any kind fails the property.
          for (const c of chunk(stream, how)) {
            const result = run.decoder.push(c);
            if (error) {
              expect(result).toBe(error);
            } else if (result) {
              error = result;
              framesAtError = run.frames.length;
            }
          }
          if (error) {
            expect(error).toBeInstanceOf(FrameError);
            expect(CODES).toContain(error.code);
            expect(error.offset).toBeGreaterThanOrEqual(0);
            expect(error.offset).toBeLessThanOrEqual(stream.length);
            expect(run.frames).toHaveLength(framesAtError);
          }
          for (const f of run.frames) expect(f.length).toBeLessThanOrEqual(maxFrameBytes);
          // Chunking changes neither the frames nor the error.
          const oneShot = decode([stream], maxFrameBytes);
          expect(hexes(run.frames)).toEqual(hexes(oneShot.frames));
          expect(error?.code).toBe(oneShot.error?.code);
          expect(error?.offset).toBe(oneShot.error?.offset);
        }),
        { numRuns: 500 },
      );
    });

    it('reports an error on the very byte that makes the stream invalid, so nothing past it is buffered', () => {
      fc.assert(
        fc.property(hostileStream, fc.integer({ min: 0, max: 32 }), (stream, maxFrameBytes) => {
          const run = decoderWith(maxFrameBytes);
          let at = -1;
          let error: FrameError | null = null;
          for (let i = 0; i < stream.length && !error; i++) {
            error = run.decoder.push(stream.subarray(i, i + 1));
            at = i;
          }
          if (!error) return;
          switch (error.code) {
            case 'PB_ERR_FRAME_BAD_LENGTH':
              expect(at).toBe(error.offset);
              expect(stream[at]).toBe((error as FrameBadLengthError).byte);
              break;
            case 'PB_ERR_FRAME_HEADER_TOO_LONG':
              expect(at).toBe(error.offset);
              expect(stream.subarray(at - MAX_LENGTH_DIGITS, at + 1).every((b) => b >= 0x30 && b <= 0x39)).toBe(true);
              break;
            case 'PB_ERR_FRAME_TOO_LARGE':
              // offset counts the header's newline, which is the byte that was just pushed.
              expect(stream[at]).toBe(0x0a);
              expect(at + 1).toBe(error.offset);
              expect((error as FrameTooLargeError).declared).toBeGreaterThan(maxFrameBytes);
              break;
            default:
              expect.unreachable(`unexpected code ${error.code}`);
          }
        }),
        { numRuns: 300 },
      );
    });
  });
});
