// Fan-out bench: one publisher, N subscribers in one group; deliveries per second and server CPU
// per delivery, for plugbroker (the `router` test plugin's group-send), a raw Node fan-out server
// (the ceiling for a Node host, bench/raw-node-fan-out.js) and nats-server when it is installed.
//
// Method (docs/measurements.md): the publisher writes B messages of 64 B in one write, then waits until
// every subscriber has received all of them (bytes counted), then sends the next B. Servers run
// side by side and are driven in turn, A B C A B C…, one measuring window each; the server's CPU
// time (utime + stime from /proc/<pid>/stat) over the window divided by the deliveries is the
// headline figure, with its ratio to raw-node measured in the same run.
//
// usage: node bench/fan-out.js [--quick] [--members 1000,10000] [--batch 32] [--rounds 3]
//                              [--servers raw-node,plugbroker,plugbroker-worker,nats-server]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { killAllProcesses, ManagedProcess, pickFreePort, waitForPort } from './lib/processes.js';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.dirname(benchDir);
const BODY_BYTES = 64;
const GROUP = 'bench';
const CLK_TCK = 100;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    members: { type: 'string', default: '1000,10000' },
    batch: { type: 'string', default: '32' },
    rounds: { type: 'string' },
    servers: { type: 'string', default: 'raw-node,plugbroker,nats-server' },
  },
});
const quick = values.quick;
const memberCounts = values.members.split(',').map(Number);
const batches = values.batch.split(',').map(Number);
const rounds = Number(values.rounds ?? (quick ? 1 : 3));
const warmupMs = quick ? 300 : 1000;
const measureMs = quick ? 1000 : 3000;

/** Builds the router test plugin from its .wat with the broker's own componentize step. */
async function routerPlugin() {
  const out = path.join(repoRoot, 'test/fixtures/plugins/build/router.wasm');
  if (existsSync(out)) return out;
  const { parse } = await import('@bytecodealliance/jco');
  const { componentize } = await import(path.join(repoRoot, 'dist/host/toolchain/componentize.js'));
  const core = await parse(readFileSync(path.join(repoRoot, 'test/fixtures/plugins/router.wat'), 'utf8'));
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, await componentize(core, 'utf8'));
  return out;
}

function hasNats() {
  try {
    execFileSync('nats-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Server CPU seconds so far (all threads), from /proc/<pid>/stat. */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

const name = Buffer.concat([Buffer.of(GROUP.length), Buffer.from(GROUP)]);
const frame = (body) => Buffer.concat([Buffer.from(`${body.length}\n`), body]);
const payload = Buffer.alloc(BODY_BYTES, 'x');

/** Wire protocol of each server kind: how to subscribe, publish, and what one delivery weighs. */
const PROTOCOLS = {
  framed: {
    hello: () => frame(Buffer.concat([Buffer.from('j'), name])),
    helloReplyBytes: 3, // "1\n" + 1 byte
    publish: (b) => Buffer.concat(Array.from({ length: b }, () => frame(Buffer.concat([Buffer.from('q'), name, Buffer.alloc(4), payload])))),
    deliveryBytes: frame(payload).length,
  },
  nats: {
    hello: () => Buffer.from(`CONNECT {"verbose":false,"pedantic":false}\r\nSUB ${GROUP} 1\r\nPING\r\n`),
    helloReplyBytes: null, // INFO line, then PONG
    publish: (b) =>
      Buffer.concat(Array.from({ length: b }, () => Buffer.concat([Buffer.from(`PUB ${GROUP} ${BODY_BYTES}\r\n`), payload, Buffer.from('\r\n')]))),
    deliveryBytes: `MSG ${GROUP} 1 ${BODY_BYTES}\r\n`.length + BODY_BYTES + 2,
  },
};

const SERVERS = [
  { name: 'raw-node', protocol: 'framed', command: (port) => [process.execPath, [path.join(benchDir, 'raw-node-fan-out.js'), '--port', String(port)]] },
  {
    name: 'plugbroker',
    protocol: 'framed',
    command: (port, plugin) => [
      process.execPath,
      [
        'bin/broker.js',
        'serve',
        '--plugin',
        plugin,
        '--port',
        String(port),
        '--log-level',
        'warn',
        '--max-connections',
        '0',
        '--ping-interval-ms',
        '0',
        '--idle-timeout-ms',
        '0',
      ],
    ],
  },
  {
    // The same through worker isolation: group-send crosses the thread boundary as an effect.
    name: 'plugbroker-worker',
    protocol: 'framed',
    command: (port, plugin) => [
      process.execPath,
      [
        'bin/broker.js',
        'serve',
        '--plugin',
        plugin,
        '--port',
        String(port),
        '--log-level',
        'warn',
        '--max-connections',
        '0',
        '--ping-interval-ms',
        '0',
        '--idle-timeout-ms',
        '0',
        '--isolation',
        'worker',
      ],
    ],
  },
  { name: 'nats-server', protocol: 'nats', command: (port) => ['nats-server', ['-a', '127.0.0.1', '-p', String(port)]] },
];

/** N subscriber sockets and one publisher against one server. */
class Harness {
  constructor(port, protocol) {
    this.port = port;
    this.proto = PROTOCOLS[protocol];
    this.protocol = protocol;
    this.subs = [];
    this.received = 0;
    this.onProgress = null;
  }

  async connect(n) {
    const connectOne = () =>
      new Promise((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port: this.port, noDelay: true });
        let seen = '';
        let ready = false;
        s.on('error', reject);
        s.on('data', (chunk) => {
          if (ready) {
            this.received += chunk.length;
            if (this.onProgress) this.onProgress();
            return;
          }
          // Subscription confirmed: the join answer, or nats' PONG.
          if (this.protocol === 'nats') {
            seen += chunk.toString('latin1');
            if (seen.includes('PONG\r\n')) {
              ready = true;
              resolve(s);
            }
          } else if ((seen += chunk.toString('latin1')).length >= this.proto.helloReplyBytes) {
            ready = true;
            resolve(s);
          }
        });
        s.write(this.proto.hello());
      });
    for (let i = 0; i < n; i += 200) {
      const part = await Promise.all(Array.from({ length: Math.min(200, n - i) }, connectOne));
      this.subs.push(...part);
    }
    this.pub = await new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port: this.port, noDelay: true }, () => resolve(s));
      s.on('error', reject);
      s.on('data', () => {});
    });
    if (this.protocol === 'nats') this.pub.write('CONNECT {"verbose":false,"pedantic":false}\r\n');
  }

  /** Publishes batches of `b` for `ms`; returns deliveries and elapsed ms. */
  async run(b, ms) {
    const burst = this.proto.publish(b);
    const perBatch = this.subs.length * b * this.proto.deliveryBytes;
    const start = performance.now();
    let deliveries = 0;
    while (performance.now() - start < ms) {
      this.received = 0;
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`batch not delivered within 30 s (${this.received}/${perBatch} bytes)`)), 30_000);
        this.onProgress = () => {
          if (this.received >= perBatch) {
            clearTimeout(timer);
            this.onProgress = null;
            resolve();
          }
        };
        this.pub.write(burst);
      });
      deliveries += this.subs.length * b;
    }
    return { deliveries, elapsedMs: performance.now() - start };
  }

  close() {
    for (const s of this.subs) s.destroy();
    this.pub?.destroy();
  }
}

/** Waits until the server has seen the subscribers of the last turn go (a fresh probe connection answers). */
async function settle(port) {
  await new Promise((resolve) => setTimeout(resolve, 500)); // outside any measuring window
  await new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve();
    });
    s.on('error', reject);
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const wanted = values.servers.split(',');
  const plugin = await routerPlugin();
  const servers = [];
  for (const def of SERVERS.filter((s) => wanted.includes(s.name))) {
    if (def.name === 'nats-server' && !hasNats()) {
      console.log('nats-server: not installed (apt-get install -y nats-server); skipped');
      continue;
    }
    if (def.name.startsWith('plugbroker') && !existsSync(path.join(repoRoot, 'bin/broker.js'))) continue;
    const port = await pickFreePort();
    const [file, args] = def.command(port, plugin);
    const proc = new ManagedProcess(def.name, file, args, { cwd: repoRoot });
    await waitForPort(port, proc, 10_000);
    servers.push({ def, port, proc });
  }
  const results = [];
  for (const n of memberCounts) {
    // One process may hold 20 000 files here: when every server's subscribers do not fit at once,
    // each server's subscribers connect for its turn only (connecting is outside the measurement).
    const shared = n * servers.length <= 15_000;
    const harnesses = servers.map((s) => new Harness(s.port, s.def.protocol));
    if (shared) for (const h of harnesses) await h.connect(n);
    for (const b of batches) {
      const samples = new Map(servers.map((s) => [s.def.name, []]));
      for (let r = 0; r < rounds; r++) {
        for (let i = 0; i < servers.length; i++) {
          const s = servers[i];
          const h = shared ? harnesses[i] : new Harness(s.port, s.def.protocol);
          if (!shared) await h.connect(n);
          await h.run(b, warmupMs);
          const cpu0 = cpuSeconds(s.proc.pid);
          const { deliveries, elapsedMs } = await h.run(b, measureMs);
          const cpu = cpuSeconds(s.proc.pid) - cpu0;
          if (!shared) {
            h.close();
            await settle(s.port);
          }
          samples.get(s.def.name).push({ usPerDelivery: (cpu * 1e6) / deliveries, perSecond: deliveries / (elapsedMs / 1000) });
        }
      }
      const base = samples.get('raw-node');
      const baseUs = base?.length ? median(base.map((x) => x.usPerDelivery)) : NaN;
      for (const [server, xs] of samples) {
        const us = median(xs.map((x) => x.usPerDelivery));
        results.push({
          members: n,
          batch: b,
          server,
          cpuUsPerDelivery: Number(us.toFixed(3)),
          cpuUsMin: Number(Math.min(...xs.map((x) => x.usPerDelivery)).toFixed(3)),
          cpuUsMax: Number(Math.max(...xs.map((x) => x.usPerDelivery)).toFixed(3)),
          deliveriesPerSecond: Math.round(median(xs.map((x) => x.perSecond))),
          ratioToRawNode: Number((us / baseUs).toFixed(2)),
        });
      }
    }
    if (shared) for (const h of harnesses) h.close();
  }
  console.log('\n| members | batch | server | CPU µs/delivery (min–max) | ÷ raw-node | deliveries/s |');
  console.log('|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.members} | ${r.batch} | ${r.server} | ${r.cpuUsPerDelivery} (${r.cpuUsMin}–${r.cpuUsMax}) | ${r.ratioToRawNode} | ${r.deliveriesPerSecond.toLocaleString('en')} |`,
    );
  }
  const dir = path.join(benchDir, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `fan-out-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ quick, rounds, warmupMs, measureMs, bodyBytes: BODY_BYTES, results }, null, 2));
  console.log(`\n${file}`);
  for (const s of servers) await s.proc.stop();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    killAllProcesses();
    process.exit(1);
  },
);
