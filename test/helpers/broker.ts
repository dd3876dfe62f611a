/**
 * Brokers for tests: in-process (`startBroker`, logs captured as objects) or as a real `broker
 * serve` process (`spawnBroker`, for signals and exit codes). Both return a disposer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { pino } from 'pino';
import { createBroker, type Broker } from '../../host/broker.js';
import type { BrokerOptions } from '../../host/config.js';
import { BROKER_BIN, ROOT } from './paths.js';
import { Waiter } from './wait.js';

export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

export interface TestBroker {
  broker: Broker;
  port: number;
  logs: LogLine[];
  stop(): Promise<void>;
}

/** Starts a broker in this process on a free port, capturing its log lines. */
export async function startBroker(opts: Omit<BrokerOptions, 'logger'>): Promise<TestBroker> {
  const logs: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  // port 0 unless the test gives its own listeners (`listen` may not be combined with port).
  const broker = createBroker({ ...(opts.listen === undefined ? { port: 0 } : {}), drainTimeoutMs: 500, ...opts, logger });
  await broker.start();
  return { broker, port: broker.address.port, logs, stop: () => broker.stop() };
}

export interface SpawnedBroker {
  proc: ChildProcess;
  port: number;
  /** Parsed stdout log lines so far. */
  lines: LogLine[];
  stderr: string;
  /** Resolves with the exit code once the process ended. */
  exited: Promise<number | null>;
  /** Resolves when a log line matching `pred` appears; rejects after `deadlineMs`. */
  waitLine(pred: (l: LogLine) => boolean, deadlineMs?: number): Promise<LogLine>;
  kill(): void;
}

/**
 * Runs `broker serve <args>` as a child process and waits for its `listening` line. `--port 0`
 * goes first unless `opts.port` is false (a config file then sets the port) or `args` has `--listen`.
 */
export async function spawnBroker(args: string[], deadlineMs = 15_000, opts: { env?: NodeJS.ProcessEnv; port?: false } = {}): Promise<SpawnedBroker> {
  const portArgs = opts.port === false || args.includes('--listen') ? [] : ['--port', '0'];
  const proc = spawn(process.execPath, [BROKER_BIN, 'serve', ...portArgs, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
  });
  const lines: LogLine[] = [];
  let stderr = '';
  let buffered = '';
  const waiter = new Waiter();
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => {
    buffered += s;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        lines.push(JSON.parse(line));
      } catch {
        lines.push({ msg: line });
      }
    }
    waiter.wake();
  });
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = once(proc, 'exit').then(([code]) => code as number | null);
  let hasExited = false;
  proc.once('exit', () => {
    hasExited = true;
    waiter.wake();
  });
  const waitLine = async (pred: (l: LogLine) => boolean, ms = deadlineMs): Promise<LogLine> => {
    const failIf = (): string | undefined => (hasExited ? `the broker exited (stderr: ${stderr})` : undefined);
    await waiter.until(
      () => lines.some(pred),
      () => `a matching log line (stderr: ${stderr})`,
      { deadlineMs: ms, failIf },
    );
    return lines.find(pred)!;
  };
  const listening = await waitLine((l) => l.msg === 'listening');
  return {
    proc,
    port: listening.port as number,
    lines,
    get stderr() {
      return stderr;
    },
    exited,
    waitLine,
    kill: () => void proc.kill('SIGKILL'),
  };
}
