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
import { FrameDecoder, encodeFrames } from './lib/raw-echo-frames.js';

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
