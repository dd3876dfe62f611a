// Turns raw runs into medians and ratios, prints the table, and writes the JSON results.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const ratio = (value, base) => (value != null && base ? value / base : null);

/**
 * Medians over the rounds of each load scenario × server, and each figure's ratio to the baseline.
 * Ratios divide the medians of server CPU µs per message (the figure that is stable on shared VMs),
 * or of RSS bytes per connection for the idle scenario.
 * Rounds that failed or saw wrong replies are left out of the medians and counted in failedRounds.
 * @param {object[]} loadRuns one record per round: { scenario, server, result } or { scenario, server, error }
 * @param {object[]} idleRuns one record per server: { scenario, server, conns, rssBytesPerConn, … } or { …, error }
 * @param {string} baseline name of the baseline server
 */
export function summarise(loadRuns, idleRuns, baseline) {
  const groups = new Map();
  for (const run of loadRuns) {
    const key = `${run.scenario}\0${run.server}`;
    if (!groups.has(key)) groups.set(key, { scenario: run.scenario, server: run.server, runs: [] });
    groups.get(key).runs.push(run);
  }
  const load = [...groups.values()].map(({ scenario, server, runs }) => {
    // A round with a wrong reply or a lost connection measured something else: it counts as failed.
    const results = runs.filter((run) => run.result?.errors === 0).map((run) => run.result);
    const cpu = results.map((r) => r.server_cpu_us_per_msg).filter(Number.isFinite);
    return {
      scenario,
      server,
      rounds: runs.length,
      failedRounds: runs.length - results.length,
      errors: runs.reduce((sum, run) => sum + (run.result?.errors ?? 0), 0),
      serverCpuUsPerMsg: median(cpu),
      serverCpuUsPerMsgMin: cpu.length ? Math.min(...cpu) : null,
      serverCpuUsPerMsgMax: cpu.length ? Math.max(...cpu) : null,
      msgsPerS: median(results.map((r) => r.msgs_per_s)),
      latP50Us: median(results.map((r) => r.lat_p50_us)),
      latP99Us: median(results.map((r) => r.lat_p99_us)),
      serverCpuUtil: median(results.map((r) => r.server_cpu_util)),
      clientCpuUsPerMsg: median(results.map((r) => r.client_cpu_us_per_msg)),
    };
  });
  for (const row of load) {
    const base = load.find((r) => r.scenario === row.scenario && r.server === baseline);
    row.cpuRatioToBaseline = ratio(row.serverCpuUsPerMsg, base?.serverCpuUsPerMsg);
  }
  const idle = idleRuns.map((run) => {
    const base = idleRuns.find((r) => r.server === baseline);
    return { ...run, rssRatioToBaseline: ratio(run.rssBytesPerConn, base?.rssBytesPerConn) };
  });
  return { baseline, load, idle };
}

function fmt(value, digits) {
  if (value == null) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function renderTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  // The first two columns (scenario, server) are text: left-aligned; figures are right-aligned.
  const line = (cells) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/** The human-readable report printed at the end of a run. */
export function formatReport(doc, scenarios) {
  const { summary } = doc;
  const title = (id) => `${id} ${scenarios.find((s) => s.id === id).title}`;
  const out = [];
  out.push(`plugbroker bench · ${doc.profile.name} · ${doc.profile.rounds} round(s) · ${doc.date}`);
  const m = doc.machine;
  out.push(`machine: ${m.cpus} × ${m.cpuModel} · ${m.kernel} · node ${m.node}`);
  if (m.stealShareDuringRun != null) {
    out.push(`CPU time stolen by other tenants during the run: ${fmt(100 * m.stealShareDuringRun, 0)} %`);
  }

  if (summary.load.length) {
    const rows = summary.load.map((r, i, all) => [
      i > 0 && all[i - 1].scenario === r.scenario ? '' : title(r.scenario),
      r.server,
      fmt(r.serverCpuUsPerMsg, 3) + (r.errors || r.failedRounds ? ' !' : ''),
      r.rounds - r.failedRounds > 1 ? `${fmt(r.serverCpuUsPerMsgMin, 3)}–${fmt(r.serverCpuUsPerMsgMax, 3)}` : '–',
      fmt(r.cpuRatioToBaseline, 2),
      fmt(r.msgsPerS, 0),
      fmt(r.latP50Us, 0),
      fmt(r.latP99Us, 0),
      r.serverCpuUtil == null ? '–' : `${fmt(100 * r.serverCpuUtil, 0)} %`,
    ]);
    out.push('', renderTable(['scenario', 'server', 'CPU µs/msg', 'min–max', `÷ ${summary.baseline}`, 'msgs/s', 'p50 µs', 'p99 µs', 'server CPU'], rows));
    const flagged = summary.load.filter((r) => r.errors || r.failedRounds);
    for (const r of flagged) {
      out.push(`! ${r.scenario} ${r.server}: ${r.errors} wrong replies or lost connections, ${r.failedRounds} of ${r.rounds} rounds failed`);
    }
  }

  if (summary.idle.length) {
    const incomplete = (r) => r.errors || r.openConns < r.conns;
    const rows = summary.idle.map((r) => [
      `s4 ${fmt(r.conns, 0)} idle conns`,
      r.server,
      r.error ? 'failed' : fmt(r.rssBytesPerConn / 1000, 2) + (incomplete(r) ? ' !' : ''),
      fmt(r.rssRatioToBaseline, 2),
      r.error ? '–' : fmt(r.rssBeforeKib / 1024, 1),
      r.error ? '–' : fmt(r.rssAfterKib / 1024, 1),
    ]);
    out.push('', renderTable(['scenario', 'server', 'RSS KB/conn', `÷ ${summary.baseline}`, 'RSS before MiB', 'RSS after MiB'], rows));
    for (const r of summary.idle) {
      if (r.error) out.push(`! s4 ${r.server}: ${r.error}`);
      else if (incomplete(r)) out.push(`! s4 ${r.server}: ${r.openConns} of ${r.conns} connections open, ${r.errors} errors`);
    }
  }

  for (const note of doc.notes) out.push(`note: ${note}`);
  return out.join('\n');
}

/**
 * Writes the run as `<resultsDir>/<ISO timestamp>.json` and `<resultsDir>/latest.json`.
 * @returns {string} the timestamped file's path
 */
export function writeResults(resultsDir, doc) {
  mkdirSync(resultsDir, { recursive: true });
  const json = `${JSON.stringify(doc, null, 2)}\n`;
  // Colons are not portable in file names.
  const file = path.join(resultsDir, `${doc.date.replace(/:/g, '-')}.json`);
  writeFileSync(file, json);
  writeFileSync(path.join(resultsDir, 'latest.json'), json);
  return file;
}
