// Frame-path microbenchmark (#15): CPU ns per frame through everything the broker does for an
// echoed frame except the syscalls: a read chunk of `--batch` pipelined 64 B frames goes into a real
// `Connection` (decimal decoder, per-frame checks), the broker's frame hook, `InlineRuntime`, the
// canonical-ABI adapter and echo.wasm, then `channel-send` back through the host interface, router
// and registry into the connection's outbound slab, and the one write per chunk (to a transport that
// drops it). Beside it, the same chunk through the raw Node echo's loop (decode, encode the replies
// into one Buffer: bench/raw-node-echo.js, its decoder copied below), so the ratio is what s1 would
// show without the `write` syscalls that both pay alike.
//
// `--dist a,b` times several builds of the host (each a `dist/` directory; default this tree's) in
// the same run, interleaved: how a change to the frame path is measured on a busy machine.
//
// Usage: node bench/frame-path.js [--batch 32] [--rounds 21] [--dist dir1,dir2] [--json] [--no-raw]
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { FrameDecoder, encodeFrames } from './lib/raw-echo-frames.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '21' },
    dist: { type: 'string' },
    json: { type: 'boolean', default: false },
    // For profiling the broker alone (`node --cpu-prof bench/frame-path.js --no-raw`).
    'no-raw': { type: 'boolean', default: false },
  },
});
const BATCH = Number(values.batch);
const ROUNDS = Number(values.rounds);
const FRAMES_PER_ROUND = 300_000;
const dists = (values.dist ?? path.join(ROOT, 'dist')).split(',').map((d) => path.resolve(d));
const ECHO = path.join(ROOT, 'plugins', 'echo-wasm', 'build', 'echo.wasm');

const BODY = Buffer.alloc(64, 0x61);
const CHUNK = Buffer.concat(Array.from({ length: BATCH }, () => Buffer.concat([Buffer.from(`${BODY.length}\n`), BODY])));

/** A transport that accepts every write and has nothing buffered (the kernel took it all). */
class NullTransport {
  kind = 'tcp';
  secure = false;
  inbound = 'decimal';
  remoteAddress = '127.0.0.1';
  remotePort = 1;
  bufferedBytes = 0;
  written = 0;
  constructor(outbound) {
    this.outbound = outbound;
  }
  attach(handler) {
    this.handler = handler;
  }
  write(data) {
    this.written += data.length;
  }
  writev(list) {
    for (const d of list) this.written += d.length;
  }
  pause() {}
  end() {}
  destroy() {}
}

/** The broker's frame path, wired as host/broker.ts wires it, from the modules of `dist`. */
async function brokerPath(dist) {
  const m = async (p) => import(path.join(dist, p));
  const { Connection } = await m('host/connection/connection.js');
  const { OutboundArena } = await m('host/connection/outbound-arena.js');
  const { ConnectionRegistry } = await m('host/connection/registry.js');
  const { Router } = await m('host/routing/router.js');
  const { TimerTable } = await m('host/routing/timers.js');
  const { createBrokerHostImports } = await m('host/host-api/host-imports.js');
  const { ChannelDataStore } = await m('host/host-api/channel-data.js');
  const { InlineRuntime } = await m('host/plugin/runtime/inline-runtime.js');
  const { loadPlugin } = await m('host/plugin/load/loader.js');
  const { headerCodecFor } = await m('host/framing/frame-codec.js');
  const log = pino({ level: 'silent' });
  const registry = new ConnectionRegistry();
  const router = new Router(registry);
  const channelData = new ChannelDataStore();
  const timers = new TimerTable(() => {});
  const spec = await loadPlugin(ECHO);
  const services = { resetInstanceState() {}, groupMemberships: () => [], channelData: () => [], upstreamServices: [], reserveUpstreamHandle: () => 0 };
  const stats = { framesIn: 0 };
  let runtime;
  const hooks = {
    onFrame: (conn, body) => {
      stats.framesIn++;
      runtime.handleMsg(conn.id, body);
    },
    onClosed() {},
    onTransportClosed() {},
    onLimit() {},
    onProtocolError() {},
    onChannelFailed() {},
    onConnectDecided() {},
    liveChannels: () => [],
    onInstanceReplaced() {},
    onPluginFailed(err) {
      throw err;
    },
  };
  runtime = new InlineRuntime({
    spec,
    imports: createBrokerHostImports({
      router,
      logger: log,
      timers,
      upstreams: {},
      maxFrameBytes: 1 << 20,
      timed: spec.timed,
      channelData,
      maxChannelDataBytes: 4096,
    }),
    services,
    config: '',
    log,
    owner: hooks,
    failurePolicy: 'reload',
    callBudgetMs: 1000,
    maxFrameBytes: 1 << 20,
    maxOutboundBytes: 1 << 24,
    maxChannelDataBytes: 4096,
  });
  await runtime.start();
  const transport = new NullTransport(headerCodecFor('decimal'));
  const policy = Object.freeze({
    maxFrameBytes: 1 << 20,
    maxOutboundBytes: 1 << 24,
    closeLingerMs: 1000,
    rateFrames: 0,
    rateBytes: 0,
    rateAction: 'close',
    authRequired: false,
    preAuthMaxFrames: 0,
    preAuthMaxBytes: 0,
  });
  const conn = new Connection(registry.allocateId(), transport, hooks, policy, new OutboundArena());
  registry.add(conn);
  if (!runtime.handleConnect(conn.id, conn.peerInfo(false))) throw new Error('echo refused the connection');
  conn.open();
  return {
    run(chunks) {
      const before = transport.written;
      for (let i = 0; i < chunks; i++) transport.handler.onData(CHUNK);
      if (transport.written - before !== chunks * CHUNK.length)
        throw new Error(`${dist}: echoed ${transport.written - before} bytes, expected ${chunks * CHUNK.length}`);
    },
  };
}

/** The raw Node echo's per-chunk work: decode the chunk's bodies, encode the replies into one Buffer. */
function rawNodePath() {
  const decoder = new FrameDecoder();
  const bodies = [];
  let written = 0;
  return {
    run(chunks) {
      for (let c = 0; c < chunks; c++) {
        if (!decoder.decode(CHUNK, bodies)) throw new Error('raw decoder refused the chunk');
        written += encodeFrames(bodies).length;
        bodies.length = 0;
      }
      if (written === 0) throw new Error('raw path wrote nothing');
    },
  };
}

const variants = values['no-raw'] ? [] : [{ name: 'raw Node loop', path: rawNodePath() }];
for (const dist of dists) variants.push({ name: `plugbroker ${path.relative(ROOT, dist) || dist}`, path: await brokerPath(dist) });

const chunksPerRound = Math.round(FRAMES_PER_ROUND / BATCH);
const cpuNsPerFrame = (p) => {
  const t0 = process.cpuUsage();
  p.run(chunksPerRound);
  const d = process.cpuUsage(t0);
  return ((d.user + d.system) * 1e3) / (chunksPerRound * BATCH);
};
for (const v of variants) cpuNsPerFrame(v.path); // warm-up
const samples = variants.map(() => []);
for (let r = 0; r < ROUNDS; r++) variants.forEach((v, i) => samples[i].push(cpuNsPerFrame(v.path)));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
// Each round's figure divided by the first variant's in the same round, then the median: the load
// of the moment cancels out of a ratio of neighbours far better than out of two separate medians.
const pairedRatio = (i) => median(samples[i].map((ns, r) => ns / samples[0][r]));
const result = variants.map((v, i) => ({
  name: v.name,
  nsPerFrame: median(samples[i]),
  min: Math.min(...samples[i]),
  max: Math.max(...samples[i]),
  ratioToFirst: pairedRatio(i),
}));
if (values.json) process.stdout.write(JSON.stringify({ batch: BATCH, rounds: ROUNDS, result }) + '\n');
else {
  console.log(`frame path, ${BATCH} × 64 B frames per chunk, ${ROUNDS} interleaved rounds, CPU ns per frame (median, min–max)`);
  console.log(`  (÷ ${result[0].name}: the median of the per-round ratios)`);
  for (const r of result) {
    const range = `(${r.min.toFixed(0)}–${r.max.toFixed(0)})`;
    console.log(`  ${r.name.padEnd(34)} ${r.nsPerFrame.toFixed(1).padStart(7)} ${range.padEnd(11)} ÷ ${r.ratioToFirst.toFixed(2)}`);
  }
}
