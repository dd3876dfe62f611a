// raw-node-echo: the ceiling for any Node host. A bare `net` echo server for "<len>\n<body>" frames
// that does what a host must do at minimum (decode each frame to its body, encode each reply) and
// nothing more: no plugin, no logging, no per-frame allocation beyond the reply buffer.
//
// Frames are decoded incrementally (headers and bodies may span chunks) and the replies for one read
// chunk go out in a single socket.write of one concatenated Buffer: a write per frame costs ≈ 10×
// more CPU (see docs/measurements.md).
//
// usage: node bench/raw-node-echo.js --port N [--tls-cert c.pem --tls-key k.pem]   (0 picks a port);
// prints "listening <port>" when ready. With a certificate it is the bare `tls` echo server
// (the TLS baseline of bench/transports.js).
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { parseArgs } from 'node:util';

const NEWLINE = 0x0a;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const MAX_LENGTH_DIGITS = 10;
const MAX_FRAME_BYTES = 16 * 1024 * 1024;

const READ_LENGTH = 0;
const READ_BODY = 1;

/** Incremental "<len>\n<body>" decoder: a READ_LENGTH → READ_BODY state machine. */
class FrameDecoder {
  #state = READ_LENGTH;
  #length = 0;
  #digits = 0;
  #body = null;
  #filled = 0;

  /**
   * Appends the body of every frame completed by `chunk` to `bodies`. A body wholly inside the chunk
   * is a view of it (no copy); one that spans chunks is assembled in its own Buffer.
   * @returns {boolean} false on a malformed or oversized header
   */
  decode(chunk, bodies) {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.#state === READ_BODY) {
        const copied = chunk.copy(this.#body, this.#filled, i, Math.min(n, i + this.#body.length - this.#filled));
        i += copied;
        this.#filled += copied;
        if (this.#filled === this.#body.length) {
          bodies.push(this.#body);
          this.#body = null;
          this.#state = READ_LENGTH;
        }
        continue;
      }
      const byte = chunk[i++];
      if (byte >= DIGIT_0 && byte <= DIGIT_9) {
        if (++this.#digits > MAX_LENGTH_DIGITS) return false;
        this.#length = this.#length * 10 + (byte - DIGIT_0);
        // Reject before buffering anything of the body.
        if (this.#length > MAX_FRAME_BYTES) return false;
        continue;
      }
      if (byte !== NEWLINE || this.#digits === 0) return false;
      const length = this.#length;
      this.#length = 0;
      this.#digits = 0;
      if (n - i >= length) {
        bodies.push(chunk.subarray(i, i + length));
        i += length;
      } else {
        this.#body = Buffer.allocUnsafe(length);
        this.#filled = 0;
        this.#state = READ_BODY;
      }
    }
    return true;
  }
}

function decimalDigits(n) {
  let digits = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    digits++;
  }
  return digits;
}

/**
 * Encodes every body as a reply frame into one Buffer (one allocation, one write). Length digits are
 * stored byte by byte: a latin1 string write per header showed up as ≈ 9 % of the profile.
 */
function encodeFrames(bodies) {
  let total = 0;
  for (const body of bodies) total += decimalDigits(body.length) + 1 + body.length;
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const body of bodies) {
    let length = body.length;
    offset += decimalDigits(length);
    let digit = offset;
    do {
      out[--digit] = DIGIT_0 + (length % 10);
      length = Math.floor(length / 10);
    } while (length > 0);
    out[offset++] = NEWLINE;
    offset += body.copy(out, offset);
  }
  return out;
}

function handleConnection(socket) {
  const decoder = new FrameDecoder();
  const bodies = [];
  socket.on('data', (chunk) => {
    if (!decoder.decode(chunk, bodies)) {
      socket.destroy();
      return;
    }
    if (bodies.length === 0) return;
    const reply = encodeFrames(bodies);
    bodies.length = 0;
    // Backpressure, as a real host needs: stop reading until the peer drains what we wrote.
    if (!socket.write(reply)) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
  });
  // The load generator resets its connections when it exits; that is not a server failure.
  socket.on('error', () => {});
}

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  throw new RangeError(`--port must be an integer in 0..65535, got ${values.port}`);
}

// noDelay like c-echo: replies must not wait behind Nagle's algorithm.
const server =
  values['tls-cert'] === undefined
    ? net.createServer({ noDelay: true }, handleConnection)
    : tls.createServer({ noDelay: true, cert: readFileSync(values['tls-cert']), key: readFileSync(values['tls-key']) }, handleConnection);
server.listen({ port, host: '127.0.0.1' }, () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
