// raw-node-fan-out: the ceiling for group fan-out in any Node host. A bare `net` server speaking the
// same requests as the `router` test plugin (test/fixtures/plugins/router.wat), so the fan-out bench
// drives it and plugbroker alike:
//   "j" n name               join group `name` → replies a 1-byte frame
//   "q" n name exc:u32 msg   send `msg` as a frame to every member of `name`
// Frames are "<len>\n<body>". The frames one read chunk sends to a group are encoded once into one
// Buffer, and each member gets that Buffer in one socket.write per chunk: the best batching a Node
// server can do (docs/measurements.md: one write per delivery costs ≈ 15× more).
//
// usage: node bench/raw-node-fan-out.js --port N; prints "listening <port>" when ready.
import net from 'node:net';
import { parseArgs } from 'node:util';

const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** Incremental "<len>\n<body>" decoder (READ_LENGTH → READ_BODY), bodies handed to `onBody`. */
class FrameDecoder {
  #length = -1; // -1: reading the length
  #digits = 0;
  #value = 0;
  #body = null;
  #filled = 0;

  /** @returns {boolean} false on a malformed header */
  decode(chunk, onBody) {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.#length >= 0) {
        const want = this.#length - this.#filled;
        if (this.#filled === 0 && n - i >= want) {
          onBody(chunk.subarray(i, i + want));
          i += want;
        } else {
          this.#body ??= Buffer.allocUnsafe(this.#length);
          const copied = chunk.copy(this.#body, this.#filled, i, Math.min(n, i + want));
          i += copied;
          this.#filled += copied;
          if (this.#filled < this.#length) continue;
          onBody(this.#body);
        }
        this.#length = -1;
        this.#body = null;
        this.#filled = 0;
        continue;
      }
      const byte = chunk[i++];
      if (byte >= 0x30 && byte <= 0x39) {
        this.#value = this.#value * 10 + (byte - 0x30);
        if (++this.#digits > 10 || this.#value > MAX_FRAME_BYTES) return false;
      } else if (byte === 0x0a && this.#digits > 0) {
        this.#length = this.#value;
        this.#value = 0;
        this.#digits = 0;
        if (this.#length === 0) this.#length = -1;
      } else if (byte !== 0x0d && byte !== 0x0a) return false;
    }
    return true;
  }
}

function header(len) {
  return `${len}\n`;
}

/** group name → member sockets */
const groups = new Map();

function handleConnection(socket) {
  socket.setNoDelay(true);
  const decoder = new FrameDecoder();
  // Per read chunk: the encoded frames for each group touched, sent once the chunk is decoded.
  let pending = new Map();
  const onBody = (body) => {
    const op = body[0];
    const n = body[1];
    const name = body.toString('latin1', 2, 2 + n);
    if (op === 0x6a) {
      let members = groups.get(name);
      if (!members) groups.set(name, (members = new Set()));
      members.add(socket);
      socket.on('close', () => members.delete(socket));
      socket.write('1\n\x01');
    } else if (op === 0x71) {
      const msg = body.subarray(6 + n);
      let parts = pending.get(name);
      if (!parts) pending.set(name, (parts = []));
      parts.push(Buffer.from(header(msg.length)), msg);
    }
  };
  socket.on('data', (chunk) => {
    if (!decoder.decode(chunk, onBody)) {
      socket.destroy();
      return;
    }
    if (pending.size === 0) return;
    for (const [name, parts] of pending) {
      const out = Buffer.concat(parts);
      const members = groups.get(name);
      if (members) for (const m of members) m.write(out);
    }
    pending = new Map();
  });
  socket.on('error', () => {});
}

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
const server = net.createServer(handleConnection);
server.listen({ host: '127.0.0.1', port: Number(values.port), backlog: 4096 }, () => {
  console.log(`listening ${server.address().port}`);
});
