// The machine a run happened on, and how much of it other tenants took meanwhile.
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** CPU model, core count, kernel and Node version: the README quotes them next to the table. */
export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
  };
}

/**
 * All-CPU time counters from /proc/stat (in clock ticks), to diff across a run.
 * @returns {{ steal: number, total: number } | null} null where /proc/stat is unavailable
 */
export function sampleCpuTimes() {
  try {
    // "cpu  user nice system idle iowait irq softirq steal guest guest_nice"; guest time is already
    // counted in user, so the total stops at steal.
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    return { steal: fields[7], total: fields.reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

/**
 * Share of CPU time stolen by the hypervisor for other tenants between two samples. A high share
 * explains swings in throughput and latency; CPU per message is far less affected.
 * @returns {number | null} in [0, 1]
 */
export function stealShare(before, after) {
  if (!before || !after || after.total === before.total) return null;
  return (after.steal - before.steal) / (after.total - before.total);
}
