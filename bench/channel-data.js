// Channel-data microbenchmark (#13 §1): ns per `channel-get-data` of 64 B as a plugin sees it, i.e. a
// call from a real wasm plugin through the host's canonical-ABI import (dist/host/plugin/abi/imports.js:
// the import, cabi_realloc back into the plugin, the copy into its memory, the (ptr, len) return area),
// the `host` interface (host-api/host.ts) and the broker's ChannelDataStore. The plugin is the
// `channel-data` test fixture (test/fixtures/plugins/channel-data.wat), componentized here.
//
// Method: its handle-msg "b" does 1000 gets and one send, "g" does one get and one send; the cost of
// one get is (t(b) − t(g)) / 999, so the dispatch and the send cancel out. The baseline is a plain JS
// function doing the same work per get in the same process: a Map lookup, a copy of the 64 B into a
// Uint8Array and the (ptr, len) written back. Variants are interleaved and the figure is the median.
//
// Usage: node bench/channel-data.js [--quick] [--json]
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { loadPlugin } = await import(`${ROOT}dist/host/plugin/load/loader.js`);
const { PluginInstance } = await import(`${ROOT}dist/host/plugin/abi/instance.js`);
const { componentize } = await import(`${ROOT}dist/host/toolchain/componentize.js`);
const { createHostInterface } = await import(`${ROOT}dist/host/host-api/host.js`);
const { ChannelDataStore } = await import(`${ROOT}dist/host/host-api/channel-data.js`);
const { parse } = await import('@bytecodealliance/jco');

const quick = process.argv.includes('--quick');
const json = process.argv.includes('--json');
const CALLS = quick ? 2_000 : 10_000; // handle-msg calls per round; "b" makes 1000 gets each
const ROUNDS = quick ? 3 : 7;
const GETS_PER_LOOP = 1000;
const DATA_BYTES = 64;
const LIMIT_MAX_TARGET_NS = 100;

const dir = await mkdtemp(join(tmpdir(), 'plugbroker-bench-'));
const wasmPath = join(dir, 'channel-data.wasm');
try {
  const core = await parse(await readFile(`${ROOT}test/fixtures/plugins/channel-data.wat`, 'utf8'));
  await writeFile(wasmPath, await componentize(core, 'utf8'));
} catch (err) {
  await rm(dir, { recursive: true, force: true });
  throw err;
}

const store = new ChannelDataStore();
const DATA = Buffer.alloc(DATA_BYTES, 0x64);
store.set(1, DATA, 0, DATA.length);
let sent = 0;
let lastLen = -1;
const host = createHostInterface(
  {
    send(_ch, _src, start, end) {
      sent++;
      lastLen = end - start;
      return true;
    },
    close() {},
    authenticate: () => true,
    log() {},
    setData: (ch, src, start, end) => (store.set(ch, src, start, end), true),
    getData: (ch) => store.get(ch),
  },
  { maxFrameBytes: 1 << 20, maxChannelDataBytes: 4096 },
);
const none = () => 0;
const imports = {
  host,
  groups: { groupJoin: none, groupLeave: none, groupSend: none, groupSize: none },
  timers: { timerSet: none, timerCancel: none },
  upstreams: { upstreamOpen: none },
};

const spec = await loadPlugin(wasmPath);
await rm(dir, { recursive: true, force: true });
const plugin = new PluginInstance(spec, imports);
if (plugin.start('') !== null) throw new Error('channel-data plugin refused to start');
plugin.handleConnect(1, { address: '127.0.0.1', port: 1, transport: 'tcp', secure: false, resumed: false });

const LOOP = Buffer.from('b');
const ONE = Buffer.from('g');

function runWasm(frame) {
  sent = 0;
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) plugin.handleMsg(1, frame);
  const ns = ((performance.now() - t0) * 1e6) / CALLS;
  if (sent !== CALLS || lastLen !== DATA_BYTES) throw new Error(`expected ${CALLS} sends of ${DATA_BYTES} B, got ${sent} of ${lastLen} B`);
  return ns;
}

// The baseline: what a get is at the least in plain JS (lookup, copy into "plugin memory", write the
// return area), 1000 per call as in the plugin's loop.
const jsMemory = new Uint8Array(65536);
const jsView = new DataView(jsMemory.buffer);
const jsMap = new Map([[1, new Uint8Array(DATA)]]);
function jsGet(ch, retptr) {
  const data = jsMap.get(ch) ?? new Uint8Array(0);
  const ptr = 1024;
  jsMemory.set(data, ptr);
  jsView.setUint32(retptr, ptr, true);
  jsView.setUint32(retptr + 4, data.length, true);
}
function runJs() {
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) for (let g = 0; g < GETS_PER_LOOP; g++) jsGet(1, 16);
  const ns = ((performance.now() - t0) * 1e6) / (CALLS * GETS_PER_LOOP);
  if (jsView.getUint32(20, true) !== DATA_BYTES) throw new Error('baseline copied nothing');
  return ns;
}

runWasm(LOOP); // warm-up
runWasm(ONE);
runJs();
const perGet = [];
const js = [];
for (let r = 0; r < ROUNDS; r++) {
  const loop = runWasm(LOOP);
  const one = runWasm(ONE);
  perGet.push((loop - one) / (GETS_PER_LOOP - 1));
  js.push(runJs());
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const result = {
  dataBytes: DATA_BYTES,
  getsPerRound: CALLS * GETS_PER_LOOP,
  rounds: ROUNDS,
  wasmNsPerGet: median(perGet),
  jsNsPerGet: median(js),
  ratio: median(perGet) / median(js),
  targetNs: LIMIT_MAX_TARGET_NS,
  pluginMemoryBytes: plugin.memoryBytes,
};
if (json) process.stdout.write(JSON.stringify(result) + '\n');
else {
  console.log(`channel-get-data, ${DATA_BYTES} B, ${result.getsPerRound} gets × ${ROUNDS} rounds (median)`);
  console.log(`  wasm plugin via the ABI   ${result.wasmNsPerGet.toFixed(1).padStart(7)} ns/get (target ≤ ${LIMIT_MAX_TARGET_NS})`);
  console.log(`  plain JS baseline         ${result.jsNsPerGet.toFixed(1).padStart(7)} ns/get`);
  console.log(`  ratio wasm ÷ js           ${result.ratio.toFixed(2).padStart(7)}`);
}
