// Drives bench/bin/loadgen (see bench/loadgen.c) and returns its JSON results.
import { ManagedProcess } from './processes.js';

/** Connecting must sustain at least this rate (Node accepts ≈ 2 000/s here under contention). */
const MIN_ACCEPTS_PER_S = 500;
const MIN_CONNECT_TIMEOUT_S = 10;
/** Slack for process start and exit on top of the windows the load generator is told to run. */
const EXIT_SLACK_S = 15;

const isJsonLine = (line) => line.startsWith('{');

function connectTimeoutS(conns) {
  return Math.max(MIN_CONNECT_TIMEOUT_S, Math.ceil(conns / MIN_ACCEPTS_PER_S));
}

/**
 * Runs one load measurement against a server.
 * @param {string} loadgen path of the load generator binary
 * @param {{ port: number, pid: number, conns: number, inflight: number, sizeBytes: number,
 *           warmupS: number, measureS: number, extraArgs?: string[] }} opts
 *   extraArgs: more load generator flags (`--wire ws`)
 * @returns {Promise<object>} the load generator's JSON result (msgs_per_s, lat_p50_us, …)
 * @throws if the load generator fails or overruns its time bound
 */
export async function runLoad(loadgen, opts) {
  const connectS = connectTimeoutS(opts.conns);
  const args = [
    '--port',
    opts.port,
    '--pid',
    opts.pid,
    '--conns',
    opts.conns,
    '--inflight',
    opts.inflight,
    '--size',
    opts.sizeBytes,
    '--warmup-s',
    opts.warmupS,
    '--measure-s',
    opts.measureS,
    '--connect-timeout-s',
    connectS,
    ...(opts.extraArgs ?? []),
  ].map(String);
  const child = new ManagedProcess('loadgen', loadgen, args);
  const boundMs = (connectS + opts.warmupS + opts.measureS + EXIT_SLACK_S) * 1000;
  try {
    const line = await child.waitForLine(isJsonLine, boundMs);
    await child.exited;
    return JSON.parse(line);
  } finally {
    await child.stop();
  }
}

/**
 * Opens `conns` idle connections (each has echoed one frame) and keeps them open until `release()`.
 * @param {string} loadgen path of the load generator binary
 * @param {{ port: number, conns: number, sizeBytes: number, holdS: number }} opts
 *   holdS bounds how long the connections stay open if release() is never called;
 *   connectTimeoutS (optional) how long connecting may take, default from the count
 * @returns {Promise<{ ready: object, release: () => Promise<void> }>}
 */
export async function holdIdleConnections(loadgen, opts) {
  const connectS = opts.connectTimeoutS ?? connectTimeoutS(opts.conns);
  const args = [
    '--idle',
    '--port',
    opts.port,
    '--conns',
    opts.conns,
    '--size',
    opts.sizeBytes,
    '--connect-timeout-s',
    connectS,
    '--hold-s',
    opts.holdS,
    ...(opts.extraArgs ?? []),
  ].map(String);
  // The load generator holds until its stdin closes: if the runner dies without cleaning up, the pipe
  // closes with it and the connections go too.
  const child = new ManagedProcess('loadgen --idle', loadgen, args, { stdinPipe: true });
  try {
    // Connect, then echo: the deadline covers both.
    const line = await child.waitForLine(isJsonLine, (2 * connectS + EXIT_SLACK_S) * 1000);
    return {
      ready: JSON.parse(line),
      release: () => child.stop(),
    };
  } catch (error) {
    await child.stop();
    throw error;
  }
}
