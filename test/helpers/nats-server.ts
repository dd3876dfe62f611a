/**
 * A real NATS server for tests: Debian's `nats-server` (installed by `.ci/run`) on 127.0.0.1 and a
 * port the OS picks (`-p -1`; never 4222), started per suite and stopped afterwards. `kill()` and
 * `restart()` (same port) stage outages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { withDeadline } from './wait.js';

/** Debian installs it in /usr/sbin, which a non-root PATH may lack. */
const NATS_SERVER = (process.env.PATH ?? '').split(delimiter).some((d) => existsSync(join(d, 'nats-server'))) ? 'nats-server' : '/usr/sbin/nats-server';

export interface TestNatsServer {
  readonly port: number;
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  /** Whether the server process is running. */
  readonly running: boolean;
  /** SIGKILL: an outage. */
  kill(): Promise<void>;
  /** Starts it again on the same port (after `kill`). */
  restart(): Promise<void>;
  /** Stops it for good. */
  stop(): Promise<void>;
}

const LISTENING = /Listening for client connections on [^\s]*:(\d+)/;

async function launch(port: number, deadlineMs: number): Promise<{ proc: ChildProcess; port: number }> {
  // -p -1: a random free port (nats-server's own "any port"; -p 0 means its default, 4222).
  const proc = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port === 0 ? -1 : port), '--no_advertise'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const listening = new Promise<number>((resolve, reject) => {
    proc.once('error', (err) => reject(new Error(`cannot run nats-server (apt-get install nats-server; .ci/run does): ${err.message}`)));
    proc.once('exit', (code) => reject(new Error(`nats-server exited with ${code}: ${stderr}`)));
    proc.stderr!.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      const m = LISTENING.exec(stderr);
      if (m !== null) resolve(Number(m[1]));
    });
  });
  const found = await withDeadline(listening, () => `nats-server to listen (stderr: ${stderr})`, deadlineMs);
  proc.removeAllListeners('exit');
  return { proc, port: found };
}

/** Starts a NATS server on a free port. */
export async function startNatsServer(deadlineMs = 10_000): Promise<TestNatsServer> {
  const first = await launch(0, deadlineMs);
  const port = first.port;
  let proc = first.proc;
  let running = true;
  const kill = async (): Promise<void> => {
    if (!running) return;
    running = false;
    const exited = once(proc, 'exit');
    proc.kill('SIGKILL');
    await exited;
  };
  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    get running() {
      return running;
    },
    kill,
    async restart() {
      if (running) return;
      ({ proc } = await launch(port, deadlineMs));
      running = true;
    },
    stop: kill,
  };
}
