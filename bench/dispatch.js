// Dispatch microbenchmark: ns per `handle-msg` → `channel-send` round at 64 B through the host's
// canonical-ABI adapter (dist/host/plugin/abi/instance.js) and the real echo.wasm, against a plain JS
// function doing the same echo. Both variants copy the payload out on send, as the broker does.
// Variants are interleaved A B A B … and the figure is the median; the ratio is the headline.
// Times are CPU time of this process (process.cpuUsage), not wall time: on the shared machine the
// time spent descheduled would otherwise dominate a 100 ns figure.
//
// Usage: node bench/dispatch.js [--quick] [--json]
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { loadPlugin } = await import(`${ROOT}dist/host/plugin/load/loader.js`);
const { PluginInstance } = await import(`${ROOT}dist/host/plugin/abi/instance.js`);

const quick = process.argv.includes('--quick');
const json = process.argv.includes('--json');
const CALLS = quick ? 200_000 : 1_000_000;
const ROUNDS = quick ? 3 : 7;
const PAYLOAD = Buffer.alloc(64, 0x61);

// The sink both variants send into: copies the bytes out like Connection.send does.
const out = Buffer.allocUnsafe(4096);
let sent = 0;
const host = {
  channelSend(_ch, src, start, end) {
    out.set(src.subarray(start, end), 0);
    sent++;
    return true;
  },
  channelClose() {},
  channelAuthenticate: () => true,
  log() {},
  nowMs: () => BigInt(Date.now()),
};
const none = () => 0;
const imports = {
  host,
  groups: { groupJoin: none, groupLeave: none, groupSend: none, groupSize: none },
  timers: { timerSet: none, timerCancel: none },
  upstreams: { upstreamOpen: none },
};

const spec = await loadPlugin(`${ROOT}plugins/echo-wasm/build/echo.wasm`);
const plugin = new PluginInstance(spec, imports);
if (plugin.start('') !== null) throw new Error('echo plugin refused to start');
plugin.handleConnect(1, { address: '127.0.0.1', port: 1, transport: 'tcp', resumed: false });

function jsEcho(ch, payload) {
  host.channelSend(ch, payload, 0, payload.length);
}

function run(fn) {
  sent = 0;
  const t0 = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) fn(1, PAYLOAD);
  const used = process.cpuUsage(t0);
  const ns = ((used.user + used.system) * 1e3) / CALLS;
  if (sent !== CALLS) throw new Error(`expected ${CALLS} sends, got ${sent}`);
  return ns;
}

const wasmCall = (ch, p) => plugin.handleMsg(ch, p);
const memBefore = plugin.memoryBytes;
run(wasmCall); // warm-up both paths
run(jsEcho);
const wasm = [];
const js = [];
for (let r = 0; r < ROUNDS; r++) {
  wasm.push(run(wasmCall));
  js.push(run(jsEcho));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const result = {
  payloadBytes: PAYLOAD.length,
  callsPerRound: CALLS,
  rounds: ROUNDS,
  wasmNsPerRound: median(wasm),
  jsNsPerRound: median(js),
  ratio: median(wasm) / median(js),
  pluginMemoryBytesBefore: memBefore,
  pluginMemoryBytesAfter: plugin.memoryBytes,
};
if (json) process.stdout.write(JSON.stringify(result) + '\n');
else {
  console.log(`dispatch, ${PAYLOAD.length} B, ${CALLS} calls × ${ROUNDS} rounds (median)`);
  console.log(`  echo.wasm via adapter  ${result.wasmNsPerRound.toFixed(1).padStart(7)} ns/round`);
  console.log(`  plain JS function      ${result.jsNsPerRound.toFixed(1).padStart(7)} ns/round`);
  console.log(`  ratio wasm ÷ js        ${result.ratio.toFixed(2).padStart(7)}`);
  console.log(`  plugin memory          ${memBefore} → ${plugin.memoryBytes} bytes`);
}
