// The bench runner: `npm run bench` (full) or `npm run bench -- --quick` (under a minute).
//
//   --quick              one short round and 2 000 idle connections instead of five rounds and 19 000
//   --scenarios s1,s4    only these scenarios (s1 s2 s3: load; s4: idle connections; s5: dispatch)
//   --servers a,b        only these servers (c-echo, raw-node, plugbroker)
//   --rounds N           override the number of interleaved rounds
//
// Servers stay up for all load rounds and are driven in turn, A B C A B C …, so that a change in
// the machine's load hits every server alike. Each figure is also reported as a ratio to raw-node,
// measured in the same run. See bench/README.md.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildCPrograms } from './lib/build.js';
import { holdIdleConnections, runLoad } from './lib/loadgen.js';
import { machineInfo, sampleCpuTimes, stealShare } from './lib/machine.js';
import { killAllProcesses, readRssKib } from './lib/processes.js';
import { formatReport, summarise, writeResults } from './lib/report.js';
import { PROFILES, SCENARIOS } from './lib/scenarios.js';
import { BASELINE, SERVERS, startServer } from './lib/servers.js';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.dirname(benchDir);
/** Upper bound on how long idle connections stay open if the runner never releases them. */
const IDLE_HOLD_BOUND_S = 120;

function pickByName(all, list, keyOf, flag) {
  if (list === undefined) return all;
  const wanted = list
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = wanted.filter((name) => !all.some((item) => keyOf(item) === name));
  if (unknown.length) {
    throw new Error(`${flag}: unknown ${unknown.join(', ')} (known: ${all.map(keyOf).join(', ')})`);
  }
  return all.filter((item) => wanted.includes(keyOf(item)));
}

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      scenarios: { type: 'string' },
      servers: { type: 'string' },
      rounds: { type: 'string' },
    },
  });
  const profile = { ...PROFILES[values.quick ? 'quick' : 'full'] };
  if (values.rounds !== undefined) {
    const rounds = Number(values.rounds);
    if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);
    profile.rounds = rounds;
  }
  return {
    profile,
    scenarios: pickByName(SCENARIOS, values.scenarios, (s) => s.id, '--scenarios'),
    servers: pickByName(SERVERS, values.servers, (s) => s.name, '--servers'),
  };
}

function fmtRun(result) {
  const cpu = result.server_cpu_us_per_msg == null ? '–' : result.server_cpu_us_per_msg.toFixed(3);
  const errors = result.errors ? `  ${result.errors} ERRORS` : '';
  return `${cpu} µs/msg  ${Math.round(result.msgs_per_s ?? 0).toLocaleString('en-US')} msgs/s${errors}`;
}

/**
 * Runs every load scenario against every server, interleaved, for profile.rounds rounds. A server
 * that fails to start or dies still gets a failed record per round, so the summary shows it.
 * @returns {Promise<{ runs: object[], unstartable: Set<string> }>}
 */
async function runLoadScenarios(scenarios, servers, profile, ctx) {
  const unstartable = new Set();
  if (scenarios.length === 0) return { runs: [], unstartable };
  const started = [];
  const runs = [];
  try {
    for (const def of servers) {
      try {
        started.push(await startServer(def, ctx));
      } catch (error) {
        started.push({ def, startError: `failed to start: ${error.message}` });
        unstartable.add(def.name);
        console.log(`${def.name} failed to start: ${error.message}`);
      }
    }
    for (let round = 1; round <= profile.rounds; round++) {
      for (const scenario of scenarios) {
        for (const server of started) {
          const record = { round, scenario: scenario.id, server: server.def.name };
          const label = `[${round}/${profile.rounds}] ${scenario.id} ${server.def.name.padEnd(12)}`;
          if (server.startError || server.process.hasExited) {
            runs.push({ ...record, error: server.startError ?? 'server exited earlier in the run' });
            continue;
          }
          try {
            const result = await runLoad(ctx.binaries.loadgen, {
              port: server.port,
              pid: server.process.pid,
              conns: scenario.conns,
              inflight: scenario.inflight,
              sizeBytes: scenario.sizeBytes,
              warmupS: profile.warmupS,
              measureS: profile.measureS,
            });
            runs.push({ ...record, result });
            console.log(`${label} ${fmtRun(result)}`);
          } catch (error) {
            runs.push({ ...record, error: error.message });
            console.log(`${label} FAILED: ${error.message}`);
          }
        }
      }
    }
  } finally {
    await Promise.all(started.map((server) => server.process?.stop()));
  }
  return { runs, unstartable };
}

/**
 * Measures RSS per idle connection: a fresh server, VmRSS before, K connections that each echoed one
 * frame, VmRSS after; (after − before) ÷ K. The load generator holds the client ends (a separate
 * process, so each side stays under the per-process open-files limit).
 */
async function runIdleScenario(scenario, servers, profile, ctx) {
  const runs = [];
  for (const def of servers.filter((server) => server.idleRss)) {
    const record = { scenario: scenario.id, server: def.name, conns: profile.idleConns };
    let server;
    let hold;
    try {
      server = await startServer(def, ctx);
      const rssBeforeKib = readRssKib(server.process.pid);
      hold = await holdIdleConnections(ctx.binaries.loadgen, {
        port: server.port,
        conns: profile.idleConns,
        sizeBytes: scenario.sizeBytes,
        holdS: IDLE_HOLD_BOUND_S,
      });
      const rssAfterKib = readRssKib(server.process.pid);
      const run = {
        ...record,
        openConns: hold.ready.open_conns,
        errors: hold.ready.errors,
        rssBeforeKib,
        rssAfterKib,
        rssBytesPerConn: ((rssAfterKib - rssBeforeKib) * 1024) / profile.idleConns,
      };
      runs.push(run);
      console.log(`s4 ${def.name.padEnd(12)} ${(run.rssBytesPerConn / 1000).toFixed(2)} KB/conn over ${run.openConns} open`);
    } catch (error) {
      runs.push({ ...record, error: error.message });
      console.log(`s4 ${def.name.padEnd(12)} FAILED: ${error.message}`);
    } finally {
      await hold?.release();
      await server?.process.stop();
    }
  }
  return runs;
}

/**
 * The dispatch microbenchmark (bench/dispatch.js) in its own process: ns per handle-msg →
 * channel-send round through the adapter and echo.wasm, against a plain JS function, interleaved.
 */
function runDispatchScenario(profile) {
  try {
    const out = execFileSync(process.execPath, [path.join(benchDir, 'dispatch.js'), '--json', ...(profile.name === 'quick' ? ['--quick'] : [])], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 120_000,
    });
    const result = JSON.parse(out.trim().split('\n').pop());
    console.log(
      `s5 dispatch     ${result.wasmNsPerRound.toFixed(1)} ns/round (plain JS ${result.jsNsPerRound.toFixed(1)} ns, ratio ${result.ratio.toFixed(2)})`,
    );
    return result;
  } catch (error) {
    console.log(`s5 dispatch     FAILED: ${error.message}`);
    return { error: error.message };
  }
}

async function main() {
  const { profile, scenarios, servers } = parseOptions(process.argv.slice(2));
  const binaries = buildCPrograms(benchDir, ['loadgen', 'c-echo']);
  const ctx = { repoRoot, benchDir, binaries };
  const notes = [];
  const runnable = servers.filter((def) => {
    const reason = def.unavailableReason(ctx);
    if (reason) {
      notes.push(`${def.name} skipped: ${reason}`);
      console.log(`${def.name} skipped: ${reason}`);
    }
    return !reason;
  });

  const date = new Date().toISOString();
  const cpuBefore = sampleCpuTimes();
  const { runs: loadRuns, unstartable } = await runLoadScenarios(
    scenarios.filter((s) => s.kind === 'load'),
    runnable,
    profile,
    ctx,
  );
  // A server that would not start for the load scenarios is not retried: its failure is already recorded.
  const idleScenario = scenarios.find((s) => s.kind === 'idle');
  const idleServers = runnable.filter((def) => !unstartable.has(def.name));
  const idleRuns = idleScenario ? await runIdleScenario(idleScenario, idleServers, profile, ctx) : [];
  const dispatch = scenarios.some((s) => s.kind === 'dispatch') ? runDispatchScenario(profile) : undefined;

  const doc = {
    date,
    profile,
    machine: { ...machineInfo(), stealShareDuringRun: stealShare(cpuBefore, sampleCpuTimes()) },
    scenarios,
    servers: runnable.map((def) => ({ name: def.name, role: def.role })),
    notes,
    // summary.idle already holds each idle run in full; load runs are kept per round.
    summary: summarise(loadRuns, idleRuns, BASELINE),
    dispatch,
    loadRuns,
  };
  console.log(`\n${formatReport(doc, SCENARIOS)}`);
  if (dispatch && !dispatch.error) {
    console.log(
      `\ns5 dispatch, 64 B: echo.wasm via the adapter ${dispatch.wasmNsPerRound.toFixed(1)} ns/round, ` +
        `plain JS ${dispatch.jsNsPerRound.toFixed(1)} ns/round, ratio ${dispatch.ratio.toFixed(2)} (target ≤ 150 ns/round)`,
    );
  }
  const file = writeResults(path.join(benchDir, 'results'), doc);
  console.log(`\nresults: ${path.relative(repoRoot, file)} (also bench/results/latest.json)`);

  const failed = loadRuns.some((run) => run.error || run.result.errors) || idleRuns.some((run) => run.error || run.errors) || Boolean(dispatch?.error);
  if (failed) {
    console.error('some runs failed or saw wrong replies: see the marks above');
    process.exitCode = 1;
  }
}

process.on('exit', killAllProcesses);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAllProcesses();
    process.exit(128 + os.constants.signals[signal]);
  });
}

main().catch((error) => {
  console.error(error.message);
  process.exitCode = 1;
});
