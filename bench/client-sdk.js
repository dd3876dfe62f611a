#!/usr/bin/env node
// Client-side CPU per message of the client SDK (client-sdk-ts, Node build) against a bare client
// over the same transport, both talking to one plugbroker (echo.wasm) in a child process: the
// SDK's cost above the socket (events, heartbeat bookkeeping, the transport adapter, framing).
//
//   tcp: BrokerClient('tcp://…')  vs  a net.Socket with the SDK's own DecimalDecoder and encoder
//   ws:  BrokerClient('ws://…')   vs  a bare `ws` WebSocket
//
// Each run echoes `--messages` 64-byte frames with `--in-flight` outstanding and measures this
// process's CPU time (user + system). Runs are interleaved A B A B … for `--rounds` rounds; the
// report gives medians and the ratio SDK ÷ bare from the same round.
//
//   npm run bench:client-sdk [-- --rounds 5 --messages 100000 --in-flight 32]
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { BrokerClient, DecimalDecoder, encodeDecimalFrame } from '@plugbroker/client';
import { ManagedProcess, killAllProcesses, pickFreePort, waitForPort } from './lib/processes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    messages: { type: 'string', default: '100000' },
    'in-flight': { type: 'string', default: '32' },
  },
});
const ROUNDS = Number(values.rounds);
const MESSAGES = Number(values.messages);
const IN_FLIGHT = Number(values['in-flight']);
const BODY = new Uint8Array(64).fill(0x61);

/** Echoes MESSAGES frames with IN_FLIGHT outstanding; `send(body)` sends, `onReply` is called per echo. Returns CPU µs. */
async function drive(send, setOnReply) {
  let sent = 0;
  let received = 0;
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  setOnReply(() => {
    received++;
    if (sent < MESSAGES) {
      sent++;
      send(BODY);
    } else if (received === MESSAGES) done();
  });
  const before = process.cpuUsage();
  for (; sent < IN_FLIGHT; sent++) send(BODY);
  await finished;
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

const RUNNERS = {
  async 'sdk-tcp'(ports) {
    const c = new BrokerClient(`tcp://127.0.0.1:${ports.tcp}`);
    await new Promise((resolve) => c.once('connected', resolve));
    let onReply;
    c.on('message', () => onReply());
    const us = await drive(
      (b) => c.send(b),
      (f) => (onReply = f),
    );
    await c.close();
    return us;
  },
  async 'bare-tcp'(ports) {
    const socket = net.connect({ host: '127.0.0.1', port: ports.tcp, noDelay: true });
    await once(socket, 'connect');
    let onReply;
    const decoder = new DecimalDecoder(() => onReply(), 1 << 20);
    socket.on('data', (chunk) => decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
    const us = await drive(
      (b) => socket.write(encodeDecimalFrame(b)),
      (f) => (onReply = f),
    );
    socket.destroy();
    return us;
  },
  async 'sdk-ws'(ports) {
    const c = new BrokerClient(`ws://127.0.0.1:${ports.ws}/`);
    await new Promise((resolve) => c.once('connected', resolve));
    let onReply;
    c.on('message', () => onReply());
    const us = await drive(
      (b) => c.send(b),
      (f) => (onReply = f),
    );
    await c.close();
    return us;
  },
  async 'bare-ws'(ports) {
    const ws = new WebSocket(`ws://127.0.0.1:${ports.ws}/`, { perMessageDeflate: false });
    ws.binaryType = 'arraybuffer';
    await once(ws, 'open');
    let onReply;
    ws.on('message', () => onReply());
    const us = await drive(
      (b) => ws.send(b),
      (f) => (onReply = f),
    );
    ws.close();
    return us;
  },
};
const PAIRS = [
  ['sdk-tcp', 'bare-tcp'],
  ['sdk-ws', 'bare-ws'],
];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const ports = { tcp: await pickFreePort(), ws: await pickFreePort() };
  const broker = new ManagedProcess(
    'plugbroker',
    process.execPath,
    [
      'bin/broker.js',
      'serve',
      '--plugin',
      'plugins/echo-wasm/build/echo.wasm',
      '--listen',
      `tcp://127.0.0.1:${ports.tcp}`,
      '--listen',
      `ws://127.0.0.1:${ports.ws}/`,
      '--log-level',
      'warn',
    ],
    { cwd: ROOT },
  );
  await waitForPort(ports.tcp, broker, 30_000);
  await waitForPort(ports.ws, broker, 30_000);
  const perMsg = Object.fromEntries(Object.keys(RUNNERS).map((k) => [k, []]));
  const ratios = Object.fromEntries(PAIRS.map(([a]) => [a, []]));
  // One warm-up run each (JIT), not counted.
  for (const name of Object.keys(RUNNERS)) await RUNNERS[name](ports);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [a, b] of PAIRS) {
      const ua = (await RUNNERS[a](ports)) / MESSAGES;
      const ub = (await RUNNERS[b](ports)) / MESSAGES;
      perMsg[a].push(ua);
      perMsg[b].push(ub);
      ratios[a].push(ua / ub);
    }
  }
  broker.killNow();
  console.log(`client CPU µs per 64 B echo, ${MESSAGES} messages × ${IN_FLIGHT} in flight, ${ROUNDS} rounds (medians)`);
  for (const [a, b] of PAIRS) {
    const fmt = (xs) => median(xs).toFixed(3);
    console.log(
      `${a.padEnd(8)} ${fmt(perMsg[a])} µs   ${b.padEnd(8)} ${fmt(perMsg[b])} µs   ratio ${median(ratios[a]).toFixed(2)} (range ${Math.min(...ratios[a]).toFixed(2)}–${Math.max(...ratios[a]).toFixed(2)})`,
    );
  }
}

main()
  .catch((err) => {
    console.error(`bench/client-sdk: ${err.stack ?? err.message}`);
    process.exitCode = 1;
  })
  .finally(() => killAllProcesses());
