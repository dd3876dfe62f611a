// Scale bench (#12): 100 000 concurrent connections on one machine, held by `broker serve --processes
// <P> --cluster` (P broker processes sharing one port, joined through a real nats-server), all
// members of one group; one group send reaches all of them. Not part of `npm test`.
//
// Why several processes on each side: one process may hold 20 000 open files here (`ulimit -n`), so
// the brokers need ≥ 6 processes for 100 000 sockets and so does the load generator. Why several
// addresses: towards one destination (IP, port) there are only the ephemeral ports (32768–60999:
// 28 232). The broker listens on 127.0.0.1 (the coordinator's connection) and on 127.0.0.<2+i> for
// load generator i, all on one port. The loopback addresses are the connections' destinations, not
// their sources: binding each socket to a source address before `connect` (what `localAddress` does)
// makes the kernel search for a free port by `bind()`, which costs O(ports in use) in system time;
// a first run spent 88 % of the load generators' CPU there and slowed to ~50 connections/s at 65 000.
//
// Method: the load generators (this file run with `--client`, forked with an IPC channel) open their
// share of the connections (at most 256 connecting at once each); every connection joins group
// `all` and waits for the join's answer. The coordinator then asks `group-size all` on a separate
// connection until it answers N (every process has announced its members to every other), reads the
// RSS of every broker process, and sends `--broadcasts` group sends of a 16 B body to `all`, one at a
// time: each load generator reports the moment its last socket got the frame (every socket counted,
// a missing one is an error), and the time to deliver is the latest of those minus the moment the
// coordinator wrote the send (one clock: one machine). Between broadcasts it waits for all to land.
//
// usage: node bench/cluster-scale.js [--connections 100000] [--processes 6] [--clients 7] [--broadcasts 5]
import { fork } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { killAllProcesses, ManagedProcess, pickFreePort, readRssKib, waitForPort } from './lib/processes.js';
import { routerPlugin } from './lib/router-plugin.js';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.dirname(benchDir);
const GROUP = 'all';
const BODY = Buffer.from('broadcast-16-byt');
const name = Buffer.concat([Buffer.of(GROUP.length), Buffer.from(GROUP)]);
const frame = (body) => Buffer.concat([Buffer.from(`${body.length}\n`), body]);
const JOIN = frame(Buffer.concat([Buffer.from('j'), name]));
const JOIN_REPLY_BYTES = 3; // "1\n" + 1 byte
const DELIVERY_BYTES = frame(BODY).length;
const now = () => performance.timeOrigin + performance.now();

const { values } = parseArgs({
  options: {
    client: { type: 'boolean', default: false },
    connections: { type: 'string', default: '100000' },
    processes: { type: 'string', default: '6' },
    clients: { type: 'string', default: '7' },
    broadcasts: { type: 'string', default: '5' },
    port: { type: 'string' },
    count: { type: 'string' },
    address: { type: 'string' },
  },
});

// ------------------------------------------------------------------------------------------------
// Load generator: `--client --port P --count n --address 127.0.0.x`

async function runClient() {
  const port = Number(values.port);
  const count = Number(values.count);
  const address = values.address;
  const sockets = [];
  let got = 0; // sockets that have the current broadcast
  let want = 0; // broadcasts so far
  let lastMs = 0;
  const onDelivered = () => {
    if (++got === count) process.send({ type: 'delivered', lastMs });
  };
  const open = () =>
    new Promise((resolve, reject) => {
      const s = net.connect({ host: address, port, noDelay: true });
      let joined = false;
      let bytes = 0;
      s.on('error', reject);
      s.on('data', (chunk) => {
        bytes += chunk.length;
        if (!joined) {
          if (bytes >= JOIN_REPLY_BYTES) {
            joined = true;
            bytes -= JOIN_REPLY_BYTES;
            resolve(s);
          }
          return;
        }
        // Each broadcast is one frame of DELIVERY_BYTES; a socket is done when it has `want` of them.
        while (bytes >= DELIVERY_BYTES * (s.seen + 1) && s.seen < want) {
          s.seen++;
          lastMs = now();
          onDelivered();
        }
      });
      s.on('close', () => {
        if (joined) process.send({ type: 'error', message: 'a connection was closed by the broker' });
      });
      s.seen = 0;
      s.write(JOIN);
    });
  const CONCURRENCY = 256;
  let next = 0;
  const workers = Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) {
      next++;
      sockets.push(await open());
    }
  });
  await Promise.all(workers);
  process.send({ type: 'ready', rssKib: readRssKib(process.pid) });
  process.on('message', (m) => {
    if (m.type === 'arm') {
      got = 0;
      want++;
    } else if (m.type === 'exit') {
      for (const s of sockets) {
        s.removeAllListeners('close');
        s.destroy();
      }
      process.exit(0);
    }
  });
}

// ------------------------------------------------------------------------------------------------
// Coordinator

/** CPU seconds of `pid` so far (all threads), from /proc/<pid>/stat; 0 once it is gone. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function control(port) {
  const s = await new Promise((resolve, reject) => {
    const c = net.connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(c));
    c.on('error', reject);
  });
  let buf = Buffer.alloc(0);
  const waiters = [];
  s.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const nl = buf.indexOf(10);
      if (nl < 0) break;
      const len = Number(buf.subarray(0, nl).toString());
      if (buf.length < nl + 1 + len) break;
      const body = buf.subarray(nl + 1, nl + 1 + len);
      buf = buf.subarray(nl + 1 + len);
      waiters.shift()?.(body);
    }
  });
  const ask = (body) =>
    new Promise((resolve) => {
      waiters.push(resolve);
      s.write(frame(body));
    });
  return {
    size: async () => (await ask(Buffer.concat([Buffer.from('n'), name]))).readUInt32LE(),
    /** Sends the broadcast (with reply: deliveries) and returns the write time. */
    broadcast: () => {
      const t = now();
      const reply = ask(Buffer.concat([Buffer.from('b'), name, Buffer.alloc(4), BODY]));
      return { t, reply: reply.then((b) => b.readUInt32LE()) };
    },
    close: () => s.destroy(),
  };
}

async function runCoordinator() {
  const N = Number(values.connections);
  const P = Number(values.processes);
  const C = Number(values.clients);
  const B = Number(values.broadcasts);
  if (Math.ceil(N / C) > 18_000) throw new Error(`${Math.ceil(N / C)} connections per load generator: above one process's file limit; use more --clients`);
  if (Math.ceil(N / P) > 18_000) throw new Error(`${Math.ceil(N / P)} connections per broker process: above one process's file limit; use more --processes`);
  const plugin = await routerPlugin(repoRoot);
  const natsPort = await pickFreePort();
  const nats = new ManagedProcess('nats-server', process.env.NATS_SERVER ?? '/usr/sbin/nats-server', ['-a', '127.0.0.1', '-p', String(natsPort)]);
  await waitForPort(natsPort, nats, 10_000);
  const port = await pickFreePort();
  const startMs = now();
  const broker = new ManagedProcess(
    'broker --processes',
    process.execPath,
    [
      'bin/broker.js',
      'serve',
      '--plugin',
      plugin,
      ...['127.0.0.1', ...Array.from({ length: C }, (_, i) => `127.0.0.${2 + i}`)].flatMap((a) => ['--listen', `tcp://${a}:${port}`]),
      '--processes',
      String(P),
      '--cluster',
      `nats://127.0.0.1:${natsPort}`,
      '--node-id',
      'scale',
      // info: the primary's `processes listening` line says when every process is up.
      '--log-level',
      'info',
      '--max-connections',
      '0',
      '--ping-interval-ms',
      '0',
      '--idle-timeout-ms',
      '0',
      '--listen-backlog',
      '4096',
    ],
    { cwd: repoRoot },
  );
  // Nodes the broker processes lost for silence (a process starved of CPU past 3 presence intervals):
  // counted from their log lines (the predicate never matches; it only counts).
  let nodesLost = 0;
  let phase = 'start';
  const lostByPhase = {};
  broker
    .waitForLine(
      (line) => {
        if (line.includes('cluster node lost')) {
          nodesLost++;
          lostByPhase[phase] = (lostByPhase[phase] ?? 0) + 1;
        }
        return false;
      },
      2 ** 31 - 1,
    )
    .catch(() => {});
  // Every process listens (the primary starts the others once the first does).
  await broker.waitForLine((line) => line.includes('"processes listening"'), 120_000);
  await new Promise((r) => setTimeout(r, 3000)); // let them meet through NATS and settle
  const brokerPids = () => [broker.pid, ...childPids(broker.pid)];
  const rssKib = (pids) => pids.reduce((sum, pid) => sum + (readRssKib(pid) ?? 0), 0);
  const idleRssKib = rssKib(brokerPids());
  const idleNatsRssKib = readRssKib(nats.pid);
  console.log(`${P} broker processes up (pids ${brokerPids().join(' ')}), ${(idleRssKib / 1024).toFixed(0)} MiB RSS in all; opening ${N} connections`);

  const clients = [];
  phase = 'connect';
  const connectStart = now();
  for (let i = 0; i < C; i++) {
    const count = Math.floor(N / C) + (i < N % C ? 1 : 0);
    const child = fork(fileURLToPath(import.meta.url), ['--client', '--port', String(port), '--count', String(count), '--address', `127.0.0.${2 + i}`], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const c = { child, count, ready: null, delivered: [], rssKib: 0 };
    c.ready = new Promise((resolve, reject) => {
      child.on('message', (m) => {
        if (m.type === 'ready') {
          c.rssKib = m.rssKib;
          resolve();
        } else if (m.type === 'delivered') c.delivered.shift()?.(m.lastMs);
        else if (m.type === 'error') reject(new Error(m.message));
      });
      child.on('exit', (code) => reject(new Error(`load generator ${i} exited with ${code}`)));
    });
    clients.push(c);
  }
  await Promise.all(clients.map((c) => c.ready));
  const connectMs = now() - connectStart;
  console.log(`${N} connections joined in ${(connectMs / 1000).toFixed(1)} s`);
  const ctl = await control(port);
  const announceStart = now();
  for (let size = await ctl.size(); size !== N; size = await ctl.size()) {
    if (now() - announceStart > 120_000) throw new Error(`group-size stuck at ${size} of ${N}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const announceMs = now() - announceStart;
  const pids = brokerPids();
  const loadedRssKib = rssKib(pids);
  const perProcessRssKib = pids.map((pid) => readRssKib(pid));
  const natsRssKib = readRssKib(nats.pid);

  const deliveries = [];
  phase = 'broadcast';
  for (let b = 0; b < B; b++) {
    const landed = clients.map(
      (c) =>
        new Promise((resolve) => {
          c.delivered.push(resolve);
          c.child.send({ type: 'arm' });
        }),
    );
    await new Promise((r) => setTimeout(r, 100)); // every generator armed
    const cpu = () => [pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0), clients.reduce((sum, c) => sum + cpuSeconds(c.child.pid), 0)];
    const [brokerCpu0, clientCpu0] = cpu();
    const { t, reply } = ctl.broadcast();
    const counted = await reply;
    const last = Math.max(...(await Promise.all(landed)));
    const [brokerCpu1, clientCpu1] = cpu();
    const d = {
      ms: Number((last - t).toFixed(1)),
      counted,
      brokerCpuMs: Math.round((brokerCpu1 - brokerCpu0) * 1000),
      loadGeneratorCpuMs: Math.round((clientCpu1 - clientCpu0) * 1000),
    };
    deliveries.push(d);
    console.log(
      `broadcast ${b + 1}: all ${N} delivered in ${d.ms} ms (group-send counted ${counted}); CPU meanwhile: brokers ${d.brokerCpuMs} ms, load generators ${d.loadGeneratorCpuMs} ms`,
    );
    await new Promise((r) => setTimeout(r, 500));
  }
  ctl.close();
  const sorted = deliveries.map((d) => d.ms).sort((a, b) => a - b);
  const result = {
    connections: N,
    brokerProcesses: P,
    loadGenerators: C,
    listenAddresses: ['127.0.0.1', ...clients.map((_, i) => `127.0.0.${2 + i}`)],
    connectSeconds: Number((connectMs / 1000).toFixed(1)),
    membershipsAnnouncedSeconds: Number((announceMs / 1000).toFixed(1)),
    deliverAllMs: deliveries,
    deliverAllMedianMs: sorted[Math.floor(sorted.length / 2)],
    brokerRssIdleMiB: Number((idleRssKib / 1024).toFixed(1)),
    brokerRssLoadedMiB: Number((loadedRssKib / 1024).toFixed(1)),
    brokerRssPerProcessMiB: perProcessRssKib.map((k) => Number((k / 1024).toFixed(1))),
    rssPerConnectionKiB: Number(((loadedRssKib - idleRssKib) / N).toFixed(2)),
    nodesLostDuringRun: nodesLost,
    nodesLostByPhase: lostByPhase,
    natsRssMiB: { idle: Number((idleNatsRssKib / 1024).toFixed(1)), loaded: Number((natsRssKib / 1024).toFixed(1)) },
    loadGeneratorRssMiB: Number((clients.reduce((s, c) => s + c.rssKib, 0) / 1024).toFixed(1)),
    loadavg: os.loadavg(),
    cpus: os.cpus().length,
    memGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    startedToDoneSeconds: Number(((now() - startMs) / 1000).toFixed(1)),
  };
  console.log(JSON.stringify(result, null, 2));
  const dir = path.join(benchDir, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `cluster-scale-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2));
  console.log(file);
  for (const c of clients) c.child.send({ type: 'exit' });
  await Promise.all(clients.map((c) => new Promise((r) => (c.child.exitCode !== null ? r() : c.child.once('exit', r)))));
  await broker.stop();
  await nats.stop();
}

(values.client ? runClient() : runCoordinator()).then(
  () => {
    if (!values.client) process.exit(0);
  },
  (err) => {
    console.error(err);
    if (!values.client) killAllProcesses();
    process.exit(1);
  },
);
