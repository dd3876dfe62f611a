// Near-native benchmark (#15): the same SHA-256 (bench/native/sha256/sha256.c and its ports)
// compiled natively and to wasm in C, Rust and AssemblyScript, timed in one run, printed as each
// language's speed relative to native C (native ns ÷ wasm ns: 1.00 is native speed).
//
// Two wasm figures per language:
//   kernel  the bare hash exported from a core module with no SDK (bench/native/kernels/), the loop
//           inside wasm: what the compiler and V8 make of the code, no crossing per digest.
//   plugin  the real plugin (bench/native/plugins/sha256-*) built by `broker build`, one frame per
//           `handle-msg` through the host's canonical-ABI adapter (dist/host/plugin/abi/instance.js),
//           the digest sent back with `channel-send`: what a CPU-bound plugin costs per frame.
//           The echo plugin (same round trip, no hash) is printed as the floor under these lines.
// Every variant is run once per round, in turn (native, kernels, plugins), so a change in the
// machine's load hits all alike; figures are medians over rounds. Times are CPU time of the process
// (process.cpuUsage here, CLOCK_PROCESS_CPUTIME_ID in native-sha256.c), not wall time: on a machine
// shared with other work, time spent descheduled would otherwise swamp the figures. Each digest is
// checked against node:crypto before it is timed.
//
// Usage: node bench/native.js [--quick] [--json] [--rounds N] [--sizes 64,1024,16384]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineInfo } from './lib/machine.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NATIVE = path.join(ROOT, 'bench', 'native');
const BIN = path.join(ROOT, 'bench', 'bin');

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    sizes: { type: 'string' },
  },
});
const quick = values.quick;
const ROUNDS = values.rounds !== undefined ? Number(values.rounds) : quick ? 3 : 7;
const SIZES = (values.sizes ?? '64,1024,16384').split(',').map(Number);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);
for (const s of SIZES) if (!Number.isInteger(s) || s < 1 || s > 1 << 20) throw new Error(`--sizes: ${s} is not in [1, 1048576]`);
/** Wall time one measurement aims at (the iteration count is calibrated from the first round). */
const TARGET_MS = quick ? 15 : 60;

const { C_FLAGS, findCToolchain } = await import(`${ROOT}dist/host/toolchain/c.js`);
const { RUST_FLAGS, RUST_PLUGIN_FLAGS, findRustToolchain } = await import(`${ROOT}dist/host/toolchain/rust.js`);
const { build } = await import(`${ROOT}dist/host/cli/build.js`);
const { loadPlugin } = await import(`${ROOT}dist/host/plugin/load/loader.js`);
const { PluginInstance } = await import(`${ROOT}dist/host/plugin/abi/instance.js`);

const say = (line) => {
  if (!values.json) process.stdout.write(line + '\n');
};

/** The bench's input: byte i is i * 31 + 7 (mod 256), as native-sha256.c fills it. */
function input(len) {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}
const expected = new Map(SIZES.map((s) => [s, createHash('sha256').update(input(s)).digest('hex')]));

// --- builds (each with the flags its production path uses) ---------------------------------------
mkdirSync(BIN, { recursive: true });
say('building: native (gcc -O2), kernels (clang -O2 / rustc plugin flags / asc -O3), plugins (broker build)');
const run = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
const nativeBin = path.join(BIN, 'native-sha256');
run('gcc', [
  '-O2',
  '-Wall',
  '-Wextra',
  '-Werror',
  '-I',
  NATIVE,
  '-o',
  nativeBin,
  path.join(NATIVE, 'native-sha256.c'),
  path.join(NATIVE, 'sha256', 'sha256.c'),
]);
const kernelDir = path.join(BIN, 'native-kernels');
mkdirSync(kernelDir, { recursive: true });
const kernels = {
  c: path.join(kernelDir, 'sha256-c.wasm'),
  rust: path.join(kernelDir, 'sha256-rust.wasm'),
  as: path.join(kernelDir, 'sha256-as.wasm'),
};
// The compilers `broker build` picks (the first rustc on PATH with the wasm32 standard library).
run(findCToolchain().clang, [...C_FLAGS, '-o', kernels.c, path.join(NATIVE, 'kernels', 'sha256-kernel.c')]);
run((await findRustToolchain()).rustc, [
  ...RUST_FLAGS,
  ...RUST_PLUGIN_FLAGS,
  '--edition',
  '2021',
  '-o',
  kernels.rust,
  path.join(NATIVE, 'kernels', 'sha256-kernel.rs'),
]);
run(process.execPath, [
  path.join(ROOT, 'node_modules', 'assemblyscript', 'bin', 'asc.js'),
  path.join(NATIVE, 'kernels', 'sha256-kernel.ts'),
  '-O3',
  '--noAssert',
  '--runtime',
  'stub',
  '--use',
  'abort=',
  '-o',
  kernels.as,
]);
const pluginPaths = {};
for (const lang of ['c', 'rust', 'as']) {
  pluginPaths[lang] = await build(path.join(NATIVE, 'plugins', `sha256-${lang}`), { print: () => {} });
}

/** CPU ns (user + system) this process used since `t0` (a `process.cpuUsage()` sample). */
function cpuNs(t0) {
  const d = process.cpuUsage(t0);
  return (d.user + d.system) * 1e3;
}

// --- the variants -------------------------------------------------------------------------------
/** Native: one process per (size, round); it prints ns per digest and the digest. */
function runNative(size, iterations) {
  const out = execFileSync(nativeBin, [String(size), String(iterations), '1'], { encoding: 'utf8' })
    .trim()
    .split('\n');
  if (out[1] !== expected.get(size)) throw new Error(`native digest of ${size} B is ${out[1]}, expected ${expected.get(size)}`);
  return Number(out[0]);
}

function makeKernel(file) {
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), {});
  const mem = () => new Uint8Array(exports.memory.buffer);
  const inPtr = exports.input_ptr() >>> 0;
  const outPtr = exports.output_ptr() >>> 0;
  return (size, iterations) => {
    mem().set(input(size), inPtr);
    exports.digest(size, 1);
    const got = Buffer.from(mem().subarray(outPtr, outPtr + 32)).toString('hex');
    if (got !== expected.get(size)) throw new Error(`${file}: digest of ${size} B is ${got}, expected ${expected.get(size)}`);
    const t0 = process.cpuUsage();
    exports.digest(size, iterations);
    return cpuNs(t0) / iterations;
  };
}

/** Where plugins' replies are copied (as Connection.send copies into its outbound slab). */
const sink = Buffer.allocUnsafe(1 << 20);
let sinkLen = 0;

async function makePlugin(file, check = true) {
  const none = () => 0;
  const imports = {
    host: {
      channelSend(_ch, src, start, end) {
        sink.set(src.subarray(start, end), 0);
        sinkLen = end - start;
        return true;
      },
      channelClose() {},
      channelAuthenticate: () => true,
      log() {},
      nowMs: () => BigInt(Date.now()),
      channelSetData: () => true,
      channelGetData: () => new Uint8Array(0),
    },
    groups: { groupJoin: none, groupLeave: none, groupSend: none, groupSize: none },
    timers: { timerSet: none, timerCancel: none },
    upstreams: { upstreamOpen: none },
  };
  const plugin = new PluginInstance(await loadPlugin(file), imports);
  if (plugin.start('') !== null) throw new Error(`${file} refused to start`);
  plugin.handleConnect(1, { address: '127.0.0.1', port: 1, transport: 'tcp', secure: false, resumed: false });
  return (size, iterations) => {
    const payload = input(size);
    plugin.handleMsg(1, payload);
    const got = sink.subarray(0, sinkLen);
    if (check ? got.toString('hex') !== expected.get(size) : !got.equals(payload)) throw new Error(`${file}: wrong reply to ${size} B`);
    const t0 = process.cpuUsage();
    for (let i = 0; i < iterations; i++) plugin.handleMsg(1, payload);
    return cpuNs(t0) / iterations;
  };
}

const variants = [
  { name: 'native C (gcc -O2)', key: 'native', run: runNative },
  { name: 'C kernel', key: 'c-kernel', run: makeKernel(kernels.c) },
  { name: 'Rust kernel', key: 'rust-kernel', run: makeKernel(kernels.rust) },
  { name: 'AS kernel', key: 'as-kernel', run: makeKernel(kernels.as) },
  { name: 'C plugin', key: 'c-plugin', run: await makePlugin(pluginPaths.c) },
  { name: 'Rust plugin', key: 'rust-plugin', run: await makePlugin(pluginPaths.rust) },
  { name: 'AS plugin', key: 'as-plugin', run: await makePlugin(pluginPaths.as) },
  // The floor under every plugin line: the same round trip with no hash (echo.wasm, AS).
  { name: 'echo plugin (no hash)', key: 'echo-plugin', run: await makePlugin(path.join(ROOT, 'plugins', 'echo-wasm', 'build', 'echo.wasm'), false) },
];

// --- calibrate, then interleave rounds ------------------------------------------------------------
const uptimeBefore = os.loadavg();
const iterations = new Map();
for (const size of SIZES) {
  // Calibrate on the C kernel (in-process, fast): enough iterations for TARGET_MS at its speed.
  const ns = variants[1].run(size, 200);
  iterations.set(size, Math.max(50, Math.round((TARGET_MS * 1e6) / ns)));
  for (const v of variants) v.run(size, Math.max(10, iterations.get(size) >> 3)); // warm-up
}
const samples = new Map(variants.map((v) => [v.key, new Map(SIZES.map((s) => [s, []]))]));
for (let r = 0; r < ROUNDS; r++) {
  for (const size of SIZES) {
    for (const v of variants)
      samples
        .get(v.key)
        .get(size)
        .push(v.run(size, iterations.get(size)));
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const result = {
  date: new Date().toISOString(),
  machine: machineInfo(),
  loadAvgBefore: uptimeBefore,
  loadAvgAfter: os.loadavg(),
  rounds: ROUNDS,
  sizes: SIZES,
  iterations: Object.fromEntries(iterations),
  nsPerDigest: {},
  speedVsNative: {},
};
for (const v of variants) {
  result.nsPerDigest[v.key] = {};
  result.speedVsNative[v.key] = {};
  for (const size of SIZES) {
    const ns = median(samples.get(v.key).get(size));
    result.nsPerDigest[v.key][size] = ns;
    if (v.key !== 'echo-plugin') result.speedVsNative[v.key][size] = median(samples.get('native').get(size)) / ns;
  }
}

if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
else {
  const m = result.machine;
  say(`SHA-256, ${ROUNDS} interleaved rounds (median), ${m.cpuModel} × ${m.cpus}, node ${m.node}`);
  say(`load average before ${uptimeBefore.map((x) => x.toFixed(1)).join(' ')}, after ${result.loadAvgAfter.map((x) => x.toFixed(1)).join(' ')}`);
  say('speed relative to native C (native ns ÷ ns; 1.00 = native), ns per digest in brackets');
  say(`${''.padEnd(22)}${SIZES.map((s) => `${s} B`.padStart(22)).join('')}`);
  for (const v of variants) {
    // The echo line is a floor in ns, not a hash: no ratio to native.
    const ratio = (s) => (v.key === 'echo-plugin' ? '   –' : result.speedVsNative[v.key][s].toFixed(2));
    const cells = SIZES.map((s) => `${ratio(s)} (${result.nsPerDigest[v.key][s].toFixed(0)} ns)`.padStart(22));
    say(`${v.name.padEnd(22)}${cells.join('')}`);
  }
}
