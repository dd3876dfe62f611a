// The transports bench (issue #10): `npm run bench:transports` (full) or `-- --quick`.
//
//   w1  WebSocket echo, 64 B × 100 connections × 32 in flight: plugbroker on a ws:// listener
//       against a bare `ws` echo server (bench/raw-ws-echo.js); target ≤ 1.2×.
//   b1  binary framing vs decimal framing, same load, both plugbroker (tcp://…?framing=binary vs
//       tcp://): target binary ≤ decimal.
//   t1  TLS echo, same load: plugbroker on a tls:// listener against a bare `tls` echo server
//       (bench/raw-node-echo.js with a certificate); target ≤ 1.15×.
//   w2  idle WebSocket connections: RSS per connection, plugbroker vs bare ws; target ≤ 8 KB.
//   t2  idle TLS connections: RSS per connection, plugbroker vs bare tls (reported).
//
//   --rounds N   interleaved rounds (default 5)   --only w1,b1,t1,w2,t2   these scenarios only
//
// Figures are server CPU µs per message (utime + stime from /proc over the measuring window,
// read by bench/loadgen.c) and ratios against the baseline measured in the same run, servers driven
// in turn (A B A B …) for every round, as bench/run.js does. loadgen.c speaks TLS through OpenSSL
// (--tls); the certificate is made with openssl in a temporary folder.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { buildCPrograms } from './lib/build.js';
import { holdIdleConnections, runLoad } from './lib/loadgen.js';
import { machineInfo, sampleCpuTimes, stealShare } from './lib/machine.js';
import { ManagedProcess, killAllProcesses, pickFreePort, readRssKib, waitForPort } from './lib/processes.js';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.dirname(benchDir);
const ECHO = 'plugins/echo-wasm/build/echo.wasm';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, rounds: { type: 'string' }, only: { type: 'string' } } });
/** `--only b1,t1,t2`: run these scenarios only (default: all). */
const only = values.only === undefined ? null : new Set(values.only.split(','));
const wanted = (id) => only === null || only.has(id);
const profile = values.quick
  ? { rounds: 1, warmupS: 0.5, measureS: 1.5, idleConns: 2000 }
  : { rounds: Number(values.rounds ?? 5), warmupS: 1, measureS: 3, idleConns: 5000 };

const certDir = mkdtempSync(path.join(tmpdir(), 'plugbroker-bench-tls-'));
const CERT = path.join(certDir, 'cert.pem');
const KEY = path.join(certDir, 'key.pem');
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', KEY, '-out', CERT, '-days', '1', '-subj', '/CN=localhost'], {
  stdio: 'ignore',
});
const TLS_ARGS = ['--tls-cert', CERT, '--tls-key', KEY];

const broker = (listen, extra = []) => ({
  file: process.execPath,
  args: (port) => [
    'bin/broker.js',
    'serve',
    '--plugin',
    ECHO,
    '--log-level',
    'warn',
    '--max-connections',
    '0',
    '--listen',
    listen.replace('PORT', String(port)),
    ...extra,
  ],
});
const SERVERS = {
  'raw-ws': { file: process.execPath, args: (port) => [path.join(benchDir, 'raw-ws-echo.js'), '--port', String(port)] },
  'plugbroker-ws': broker('ws://127.0.0.1:PORT/ws'),
  'plugbroker-decimal': broker('tcp://127.0.0.1:PORT'),
  'plugbroker-binary': broker('tcp://127.0.0.1:PORT?framing=binary'),
  'raw-tls': { file: process.execPath, args: (port) => [path.join(benchDir, 'raw-node-echo.js'), '--port', String(port), ...TLS_ARGS] },
  'plugbroker-tls': broker('tls://127.0.0.1:PORT', TLS_ARGS),
};
const LOAD = { conns: 100, inflight: 32, sizeBytes: 64 };
const ALL_SCENARIOS = [
  { id: 'w1', baseline: 'raw-ws', subject: 'plugbroker-ws', wire: { 'raw-ws': ['--wire', 'ws'], 'plugbroker-ws': ['--wire', 'ws'] } },
  {
    id: 'b1',
    baseline: 'plugbroker-decimal',
    subject: 'plugbroker-binary',
    wire: { 'plugbroker-decimal': ['--wire', 'decimal'], 'plugbroker-binary': ['--wire', 'binary'] },
  },
  { id: 't1', baseline: 'raw-tls', subject: 'plugbroker-tls', wire: { 'raw-tls': ['--tls'], 'plugbroker-tls': ['--tls'] } },
];

const SCENARIOS = ALL_SCENARIOS.filter((sc) => wanted(sc.id));

async function start(name) {
  const def = SERVERS[name];
  const port = await pickFreePort();
  const proc = new ManagedProcess(name, def.file, def.args(port), { cwd: repoRoot });
  await waitForPort(port, proc, 60_000); // a loaded machine starts a broker slowly
  return { name, port, proc };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const { loadgen } = buildCPrograms(benchDir, ['loadgen']);
  const cpuBefore = sampleCpuTimes();
  const servers = {};
  for (const name of new Set(SCENARIOS.flatMap((sc) => [sc.baseline, sc.subject]))) servers[name] = await start(name);
  const runs = [];
  try {
    for (let round = 1; round <= profile.rounds; round++) {
      for (const sc of SCENARIOS) {
        for (const name of [sc.baseline, sc.subject]) {
          const s = servers[name];
          const r = await runLoad(loadgen, {
            ...LOAD,
            port: s.port,
            pid: s.proc.pid,
            warmupS: profile.warmupS,
            measureS: profile.measureS,
            extraArgs: sc.wire[name],
          });
          runs.push({ round, scenario: sc.id, server: name, result: r });
          console.log(
            `[${round}/${profile.rounds}] ${sc.id} ${name.padEnd(20)} ${r.server_cpu_us_per_msg?.toFixed(3)} µs/msg ${Math.round(r.msgs_per_s)} msgs/s${r.errors ? ` ${r.errors} ERRORS` : ''}`,
          );
        }
      }
    }
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.proc.stop()));
  }
  const idle = [];
  for (const [id, name, extraArgs] of [
    ['w2', 'raw-ws', ['--wire', 'ws']],
    ['w2', 'plugbroker-ws', ['--wire', 'ws']],
    // TLS handshakes are slow here (≈ 100/s on the loaded 2-core VM): fewer connections, more time.
    ['t2', 'raw-tls', ['--tls', '--connect-timeout-s', '30']],
    ['t2', 'plugbroker-tls', ['--tls', '--connect-timeout-s', '30']],
  ].filter(([id]) => wanted(id))) {
    const conns = id === 't2' ? Math.min(1000, profile.idleConns) : profile.idleConns;
    const s = await start(name);
    try {
      const before = readRssKib(s.proc.pid);
      const hold = await holdIdleConnections(loadgen, { port: s.port, conns, sizeBytes: 64, holdS: 120, extraArgs });
      const after = readRssKib(s.proc.pid);
      await hold.release();
      idle.push({ scenario: id, server: name, conns, open: hold.ready.open_conns, rssBytesPerConn: ((after - before) * 1024) / conns });
      console.log(`${id} ${name.padEnd(20)} ${(((after - before) * 1024) / conns / 1000).toFixed(2)} KB/conn over ${hold.ready.open_conns} open`);
    } finally {
      await s.proc.stop();
    }
  }
  console.log('\n| scenario | server | CPU µs/msg (median) | min–max | ÷ baseline |\n|---|---|---|---|---|');
  const summary = [];
  for (const sc of SCENARIOS) {
    const of = (name) => runs.filter((r) => r.scenario === sc.id && r.server === name && !r.result.errors).map((r) => r.result.server_cpu_us_per_msg);
    const base = median(of(sc.baseline));
    for (const name of [sc.baseline, sc.subject]) {
      const xs = of(name);
      const m = median(xs);
      summary.push({ scenario: sc.id, server: name, cpuUsPerMsg: m, ratio: m / base });
      console.log(`| ${sc.id} | ${name} | ${m.toFixed(3)} | ${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)} | ${(m / base).toFixed(2)} |`);
    }
  }
  const stolen = stealShare(cpuBefore, sampleCpuTimes());
  console.log(`\nCPU stolen during the run: ${(stolen * 100).toFixed(1)} %`);
  const dir = path.join(benchDir, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `transports-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), profile, machine: { ...machineInfo(), stolen }, summary, idle, runs }, null, 2));
  console.log(`results: ${path.relative(repoRoot, file)}`);
  if (runs.some((r) => r.result.errors) || idle.some((r) => r.open !== r.conns)) process.exitCode = 1;
}

process.on('exit', () => {
  killAllProcesses();
  rmSync(certDir, { recursive: true, force: true });
});
main().catch((err) => {
  console.error(err.message);
  process.exitCode = 1;
});
