// Timer accuracy (issue #7): how late `handle-timer` fires, as seen by a client on loopback.
// Runs `broker serve` with the `router` test plugin (test/fixtures/plugins/router.wat), arms
// 1 000 one-shot timers at once with delays spread over 1–500 ms, 200 armed one at a time, then
// one repeating 10 ms timer for 2 s, and prints lateness percentiles (receipt time − arm time −
// delay, so it includes one loopback round trip) and the repeating timer's interval spread.
//
// usage: node bench/timer-accuracy.js   (needs `npm run build` and the test fixtures built by `npm test`)
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManagedProcess, killAllProcesses, pickFreePort, waitForPort } from './lib/processes.js';

const repoRoot = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const plugin = path.join(repoRoot, 'test/fixtures/plugins/build/router.wasm');

function frame(body) {
  return Buffer.concat([Buffer.from(`${body.length}\n`), body]);
}
function setTimer(token, delayMs, repeat) {
  const b = Buffer.alloc(14);
  b.write('t', 0);
  b.writeBigUInt64LE(BigInt(token), 1);
  b.writeUInt32LE(delayMs, 9);
  b[13] = repeat ? 1 : 0;
  return frame(b);
}
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function main() {
  const port = await pickFreePort();
  const proc = new ManagedProcess(
    'plugbroker',
    process.execPath,
    ['bin/broker.js', 'serve', '--plugin', plugin, '--port', String(port), '--log-level', 'warn'],
    { cwd: repoRoot },
  );
  await waitForPort(port, proc, 10_000);
  const s = net.connect({ host: '127.0.0.1', port, noDelay: true });
  await new Promise((r) => s.once('connect', r));
  let buf = Buffer.alloc(0);
  const onFrame = [];
  s.on('data', (chunk) => {
    const now = performance.now();
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const nl = buf.indexOf(10);
      if (nl < 0) break;
      const len = Number(buf.subarray(0, nl).toString());
      if (buf.length < nl + 1 + len) break;
      const body = buf.subarray(nl + 1, nl + 1 + len);
      buf = buf.subarray(nl + 1 + len);
      for (const f of onFrame) f(body, now);
    }
  });

  async function oneShots(round) {
    const N = Number(process.env.N ?? 1000);
    const delays = Array.from({ length: N }, (_, i) => 1 + ((i * 7919) % 500));
    const lateness = new Array(N);
    let fired = 0;
    const done = new Promise((resolve) => {
      onFrame.push((body, now) => {
        if (body.length !== 9 || body[0] !== 0x54) return;
        const token = Number(body.readBigUInt64LE(1));
        if (token >= N) return;
        lateness[token] = now - t0 - delays[token];
        if (++fired === N) resolve();
      });
    });
    const t0 = performance.now();
    s.write(Buffer.concat(delays.map((d, i) => setTimer(i, d, false))));
    await done;
    if (round === 'measured')
      console.log(
        `one-shot, ${N} timers of 1–500 ms armed at once: lateness p50 ${pct(lateness, 50).toFixed(2)} ms, p99 ${pct(lateness, 99).toFixed(2)} ms, max ${Math.max(...lateness).toFixed(2)} ms, min ${Math.min(...lateness).toFixed(2)} ms`,
      );

    onFrame.length = 0;
  }

  // A warm-up round (JIT, first-call costs), then the measured one: 1 000 one-shot timers armed in
  // one write.
  for (const round of ['warm-up', 'measured']) await oneShots(round);

  // 200 timers armed one at a time, 5 ms apart, delays 20–100 ms: lateness without a burst to process.
  {
    const N = 200;
    const lateness = [];
    const armedAt = new Map();
    let fired = 0;
    const done = new Promise((resolve) => {
      onFrame.push((body, now) => {
        if (body.length !== 9 || body[0] !== 0x54) return;
        const token = Number(body.readBigUInt64LE(1));
        const armed = armedAt.get(token);
        if (armed === undefined) return;
        lateness.push(now - armed.t - armed.delay);
        if (++fired === N) resolve();
      });
    });
    for (let i = 0; i < N; i++) {
      const token = 50_000 + i;
      const delay = 20 + ((i * 37) % 81);
      armedAt.set(token, { t: performance.now(), delay });
      s.write(setTimer(token, delay, false));
      await new Promise((r) => setTimeout(r, 5));
    }
    await done;
    console.log(
      `one-shot, ${N} timers of 20–100 ms armed 5 ms apart: lateness p50 ${pct(lateness, 50).toFixed(2)} ms, p99 ${pct(lateness, 99).toFixed(2)} ms, max ${Math.max(...lateness).toFixed(2)} ms`,
    );
    onFrame.length = 0;
  }

  // One repeating 10 ms timer for 2 s.
  const ticks = [];
  onFrame.push((body, now) => {
    if (body.length === 9 && body[0] === 0x54 && Number(body.readBigUInt64LE(1)) === 99999) ticks.push(now);
  });
  const r0 = performance.now();
  s.write(setTimer(99999, 10, true));
  await new Promise((r) => setTimeout(r, 2000));
  const gaps = ticks.slice(1).map((t, i) => t - ticks[i]);
  console.log(
    `repeating 10 ms for 2 s: ${ticks.length} ticks (ideal ${Math.floor((performance.now() - r0) / 10)}), interval p50 ${pct(gaps, 50).toFixed(2)} ms, p99 ${pct(gaps, 99).toFixed(2)} ms, first after ${(ticks[0] - r0).toFixed(2)} ms`,
  );
  s.destroy();
  await proc.stop();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    killAllProcesses();
    process.exit(1);
  },
);
