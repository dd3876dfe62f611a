// The servers measured side by side. Adding one (e.g. plugbroker with worker isolation) is one more
// entry in SERVERS. A server is ready once its port accepts a connection: that needs nothing from its
// log format or level (plugbroker logs "listening" at info, hidden at --log-level warn).
import { existsSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { ManagedProcess, pickFreePort, waitForPort } from './processes.js';

const STARTUP_TIMEOUT_MS = 10000;
const BROKER_BIN = 'bin/broker.js';
const ECHO_PLUGIN = 'plugins/echo-wasm/build/echo.wasm';

/**
 * @typedef {object} ServerDef
 * @property {string} name
 * @property {'floor' | 'baseline' | 'subject'} role every ratio is taken against the one baseline
 * @property {boolean} idleRss whether the idle-connection scenario (RSS per connection) applies
 * @property {(ctx: BenchContext) => string | null} unavailableReason null when the server can run
 * @property {(ctx: BenchContext, port: number) => { file: string, args: string[], cwd: string }} command
 *
 * @typedef {{ repoRoot: string, benchDir: string, binaries: Record<string, string> }} BenchContext
 */

/** The pass-through filter of a plugin chain (#13): `plugbroker-filter` puts it in front of echo. */
const PASS_THROUGH_FILTER = 'plugins/filter-as/build/filter-as.wasm';

/**
 * Any variant of the broker serving the echo plugin; `extraArgs` selects the variant, `filters`
 * go in front of echo as a plugin chain (docs/plugin-chains.md).
 */
function plugbroker(name, extraArgs = [], filters = []) {
  return {
    name,
    role: 'subject',
    idleRss: true,
    unavailableReason: ({ repoRoot }) => {
      const missing = [BROKER_BIN, ...filters, ECHO_PLUGIN].filter((file) => !existsSync(path.join(repoRoot, file)));
      return missing.length ? `${missing.join(' and ')} not found (npm run build)` : null;
    },
    command: ({ repoRoot }, port) => ({
      file: process.execPath,
      // No connection cap, like the other servers: the idle scenario opens 19 000 connections.
      args: [
        BROKER_BIN,
        'serve',
        ...filters.flatMap((filter) => ['--plugin', filter]),
        '--plugin',
        ECHO_PLUGIN,
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--log-level',
        'warn',
        '--max-connections',
        '0',
        ...extraArgs,
      ],
      cwd: repoRoot,
    }),
  };
}

/** @type {ServerDef[]} */
export const SERVERS = [
  {
    name: 'c-echo',
    role: 'floor',
    idleRss: false,
    unavailableReason: () => null,
    command: ({ binaries, repoRoot }, port) => ({ file: binaries['c-echo'], args: ['--port', String(port)], cwd: repoRoot }),
  },
  {
    name: 'raw-node',
    role: 'baseline',
    idleRss: true,
    unavailableReason: () => null,
    command: ({ benchDir, repoRoot }, port) => ({
      file: process.execPath,
      args: [path.join(benchDir, 'raw-node-echo.js'), '--port', String(port)],
      cwd: repoRoot,
    }),
  },
  plugbroker('plugbroker'),
  plugbroker('plugbroker-worker', ['--isolation', 'worker']),
  plugbroker('plugbroker-fuel', ['--plugin-call-fuel', '10000000']),
  // --record on (#13): every event and host call to a JSON Lines file, bound lifted so it records throughout.
  plugbroker('plugbroker-record', [
    '--record',
    path.join(os.tmpdir(), `plugbroker-bench-record-${process.pid}.jsonl`),
    '--record-max-bytes',
    String(64 * 1024 ** 3),
  ]),
  plugbroker('plugbroker-filter', [], [PASS_THROUGH_FILTER]),
];

/** The server every ratio is computed against. */
export const BASELINE = SERVERS.find((server) => server.role === 'baseline').name;

/**
 * Starts a server on a free port and waits until the port accepts connections.
 * @returns {Promise<{ def: ServerDef, port: number, process: ManagedProcess }>}
 * @throws if it exits or stays silent for STARTUP_TIMEOUT_MS
 */
export async function startServer(def, ctx) {
  const port = await pickFreePort();
  const { file, args, cwd } = def.command(ctx, port);
  const child = new ManagedProcess(def.name, file, args, { cwd });
  try {
    await waitForPort(port, child, STARTUP_TIMEOUT_MS);
  } catch (error) {
    await child.stop();
    throw error;
  }
  return { def, port, process: child };
}
