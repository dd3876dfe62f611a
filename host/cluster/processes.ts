/**
 * `broker serve --processes <n|auto>` (#12): a primary process forks n broker processes with
 * `node:cluster`. Each is a whole broker (its own plugin instance, its own node of the cluster:
 * groups span them through NATS like any other nodes) and they share the listeners: every listener
 * a broker opens with `net.Server.listen` is bound once by the primary and its connections are
 * handed to the processes in turn (node:cluster's round-robin, the default on Linux, keeps them
 * even, which matters when each process may hold 20 000 files at most). A listener that must stay
 * per process (an admin API) listens with `exclusive: true` on a port offset by `processIndex()`.
 *
 * - The first process starts alone; the others only once it listens, so that a plugin that does
 *   not load or a port that cannot be bound fails once, with that process's one error line, and
 *   the primary exits with its code.
 * - A process that exits on its own later (a crash, SIGKILL, an operator's SIGTERM) is restarted
 *   (after 100 ms, doubling up to 5 s while it keeps dying within 30 s of its start); the new one
 *   says bye for its predecessor's node id once connected, so the others drop its memberships at
 *   once instead of after the presence timeout.
 * - SIGTERM or SIGINT to the primary drains every process (each stops as on its own SIGTERM) and
 *   the primary exits 0 when all have exited; a second signal kills them at once. The processes
 *   ignore SIGINT (a terminal's Ctrl-C reaches the whole process group; the primary decides), and
 *   a process whose primary vanished drains and exits.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { ProcessExitedError } from '../errors.js';
import { defaultNodeId } from './cluster-options.js';

/** Environment of a broker process started by the primary. */
const ENV_INDEX = 'PLUGBROKER_PROCESS_INDEX';
const ENV_REPLACES = 'PLUGBROKER_REPLACES_NODE';

const RESTART_BASE_MS = 100;
const RESTART_MAX_MS = 5000;
/** A process that ran this long before dying is restarted without backoff. */
const RESTART_STABLE_MS = 30_000;

/** Messages from a broker process to the primary. */
type FromProcess = { type: 'listening'; nodeId: string; host: string; port: number };
/** Messages from the primary to a broker process. */
type ToProcess = { type: 'drain' };

/** Index (0-based) of this broker process under a `--processes` primary, or undefined. */
export function processIndex(): number | undefined {
  if (!cluster.isWorker) return undefined;
  const i = Number(process.env[ENV_INDEX]);
  return Number.isInteger(i) && i >= 0 ? i : undefined;
}

/** Whether this process is a broker process started by a `--processes` primary. */
export function isBrokerProcess(): boolean {
  return processIndex() !== undefined;
}

/**
 * Cluster identity of a broker process: an explicit `--node-id X` becomes `X-<index>` (each process
 * is its own node; the default id, host name and pid, is unique already), and the node id of the
 * process it replaces (it says bye for it). Outside `--processes`: the id unchanged, no predecessor.
 */
export function processClusterIdentity(nodeId: string): { nodeId: string; clusterReplacesNode?: string } {
  const index = processIndex();
  if (index === undefined) return { nodeId };
  const replaces = process.env[ENV_REPLACES];
  return { nodeId: nodeId === defaultNodeId() ? nodeId : `${nodeId}-${index}`, clusterReplacesNode: replaces === '' ? undefined : replaces };
}

/** What a broker process needs from the broker it runs, to report to the primary. */
export interface ProcessBroker {
  readonly clusterStatus: { node: string } | undefined;
  readonly address: { host: string; port: number };
  stop(): Promise<void>;
}

/**
 * In a broker process: tells the primary it listens, and calls `onDrain` when the primary asks
 * for a drain or is gone.
 */
export function serveAsProcess(broker: ProcessBroker, onDrain: () => void): void {
  process.on('message', (msg: ToProcess) => {
    if (msg?.type === 'drain') onDrain();
  });
  // The primary died (or closed the channel): nothing would restart or stop this process.
  process.on('disconnect', onDrain);
  const status = broker.clusterStatus;
  const { host, port } = broker.address;
  process.send?.({ type: 'listening', nodeId: status?.node ?? '', host, port } satisfies FromProcess);
}

/** Options of `runPrimary`. */
export interface PrimaryOptions {
  readonly processes: number;
  readonly log: Logger;
}

interface Slot {
  readonly index: number;
  worker: Worker | undefined;
  nodeId: string;
  startedMs: number;
  failures: number;
  listening: boolean;
  restartTimer: NodeJS.Timeout | undefined;
}

/**
 * Runs the primary: forks the broker processes (the same command line: each sees it runs under a
 * primary), restarts those that die, drains them all on SIGTERM/SIGINT. Resolves with the exit code
 * for the primary: 0 after a drain, else the code of a first process that could not start.
 */
export function runPrimary(opts: PrimaryOptions): Promise<number> {
  const { log } = opts;
  const slots: Slot[] = Array.from({ length: opts.processes }, (_, index) => ({
    index,
    worker: undefined,
    nodeId: '',
    startedMs: 0,
    failures: 0,
    listening: false,
    restartTimer: undefined,
  }));
  let stopping = false;
  let allUp = false;
  let finish: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => (finish = resolve));
  let exitCode = 0;

  const fork = (slot: Slot, replaces: string): void => {
    slot.restartTimer = undefined;
    slot.listening = false;
    slot.startedMs = Date.now();
    // The broker processes run this same command line; only the environment tells them apart.
    const worker = cluster.fork({ [ENV_INDEX]: String(slot.index), [ENV_REPLACES]: replaces });
    slot.worker = worker;
    worker.on('message', (msg: FromProcess) => {
      if (msg?.type !== 'listening') return;
      slot.listening = true;
      slot.nodeId = msg.nodeId;
      if (stopping) {
        worker.send({ type: 'drain' } satisfies ToProcess);
        return;
      }
      if (slot.index === 0 && !allUp) for (const s of slots.slice(1)) fork(s, '');
      if (!allUp && slots.every((s) => s.listening)) {
        allUp = true;
        log.info({ processes: slots.length, host: msg.host, port: msg.port, pids: slots.map((s) => s.worker?.process.pid) }, 'processes listening');
      }
    });
    worker.on('exit', (code, signal) => {
      if (slot.worker !== worker) return;
      slot.worker = undefined;
      if (stopping) {
        if (slots.every((s) => s.worker === undefined)) finish(exitCode);
        return;
      }
      if (!allUp && !slot.listening) {
        // A process that never came up: the configuration or the plugin is at fault, not luck.
        exitCode = code ?? 1;
        stopAll();
        return;
      }
      const err = new ProcessExitedError(slot.index, code, signal, '; restarting it');
      const stable = Date.now() - slot.startedMs >= RESTART_STABLE_MS;
      slot.failures = stable ? 0 : slot.failures + 1;
      const delayMs = slot.failures === 0 ? 0 : Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** (slot.failures - 1));
      log.warn({ code: err.code, process: slot.index, exitCode: code, signal, node: slot.nodeId, restartInMs: delayMs }, err.message);
      const replaces = slot.nodeId;
      slot.restartTimer = setTimeout(() => fork(slot, replaces), delayMs);
    });
  };

  const stopAll = (): void => {
    stopping = true;
    for (const s of slots) {
      clearTimeout(s.restartTimer);
      s.restartTimer = undefined;
      // A process still starting gets the request as soon as it listens (see 'listening').
      if (s.worker !== undefined && s.listening) s.worker.send({ type: 'drain' } satisfies ToProcess);
    }
    if (slots.every((s) => s.worker === undefined)) finish(exitCode);
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    log.info(
      { signal, processes: slots.filter((s) => s.worker !== undefined).length },
      'signal received: draining every process (send it again to kill them at once)',
    );
    const kill = (): void => {
      for (const s of slots) s.worker?.process.kill('SIGKILL');
      process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    process.once('SIGINT', kill);
    process.once('SIGTERM', kill);
    stopAll();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // SIGHUP: every process reloads its config file and plugin.
  process.on('SIGHUP', () => {
    for (const s of slots) s.worker?.process.kill('SIGHUP');
  });

  fork(slots[0], '');
  return done;
}
