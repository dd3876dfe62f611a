// Child processes of the bench run: spawn, wait for an output line or an open port, stop, and a
// registry so that every child is killed when the runner ends, whether it finishes, throws or is
// interrupted. Also the /proc and port helpers the runner needs around them.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';

const TAIL_LINES = 40;
const STOP_GRACE_MS = 2000;
/** Listening ports stay below the ephemeral range (32768–60999) so clients never collide with them. */
const PORT_MIN = 20000;
const PORT_MAX_EXCLUSIVE = 32768;
const PORT_ATTEMPTS = 50;
const PORT_POLL_INTERVAL_MS = 50;

const live = new Set();

/** A spawned child whose output is read line by line (it must be drained or the child blocks). */
export class ManagedProcess {
  #child;
  #label;
  #tail = [];
  #waiters = new Set();
  #exitInfo = null;
  /** Resolves with `{ code, signal }` when the child exits. */
  exited;

  /**
   * @param {string} label name used in error messages
   * @param {string} file executable
   * @param {string[]} args
   * @param {{ cwd?: string, stdinPipe?: boolean }} [opts] stdinPipe keeps stdin open for the caller
   */
  constructor(label, file, args, { cwd, stdinPipe = false } = {}) {
    this.#label = label;
    this.#child = spawn(file, args, { cwd, stdio: [stdinPipe ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    live.add(this);
    this.exited = new Promise((resolve) => {
      // 'close' rather than 'exit': it comes after stdout and stderr are drained, so no line is lost.
      // 'error' (e.g. ENOENT) may come instead; either settles the child.
      const settle = (info) => {
        if (this.#exitInfo) return;
        this.#exitInfo = info;
        live.delete(this);
        for (const waiter of this.#waiters) waiter.reject(this.exitError());
        this.#waiters.clear();
        resolve(info);
      };
      this.#child.on('close', (code, signal) => settle({ code, signal }));
      this.#child.on('error', (error) => settle({ code: null, signal: null, error }));
    });
    for (const stream of [this.#child.stdout, this.#child.stderr]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => this.#onLine(line));
    }
  }

  get pid() {
    return this.#child.pid;
  }

  get stdin() {
    return this.#child.stdin;
  }

  get hasExited() {
    return this.#exitInfo !== null;
  }

  /**
   * Resolves with the first output line (stdout or stderr) matching `predicate`.
   * Rejects if the child exits first or `timeoutMs` passes.
   */
  waitForLine(predicate, timeoutMs) {
    if (this.#exitInfo) return Promise.reject(this.exitError());
    return new Promise((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(this.#failure(`no expected output within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** The error to report once the child has exited: how it ended and its last output lines. */
  exitError() {
    return this.#failure(`exited (${describeExit(this.#exitInfo)})`);
  }

  /** SIGTERM, then SIGKILL if the child is still there after a grace period. */
  async stop() {
    if (this.#exitInfo) return;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }

  /** Synchronous last resort for exit paths where nothing can be awaited. */
  killNow() {
    if (!this.#exitInfo) this.#child.kill('SIGKILL');
  }

  #onLine(line) {
    this.#tail.push(line);
    if (this.#tail.length > TAIL_LINES) this.#tail.shift();
    for (const waiter of this.#waiters) {
      if (waiter.predicate(line)) {
        this.#waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  }

  #failure(what) {
    const output = this.#tail.length ? `\n  last output:\n    ${this.#tail.join('\n    ')}` : '';
    return new Error(`${this.#label} ${what}${output}`);
  }
}

function describeExit({ code, signal, error }) {
  if (error) return error.message;
  return signal ? `signal ${signal}` : `code ${code}`;
}

/** Kills every child still running. Safe to call from 'exit' and signal handlers. */
export function killAllProcesses() {
  for (const child of live) child.killNow();
}

/** Resident set size of a process in KiB, from /proc/<pid>/status VmRSS. */
export function readRssKib(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

/**
 * Resolves once 127.0.0.1:port accepts a TCP connection (closed at once).
 * @param {ManagedProcess} child the server expected to open the port; its exit aborts the wait
 * @throws if the child exits or the port stays closed for timeoutMs
 */
export async function waitForPort(port, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.hasExited) throw child.exitError();
    if (await canConnect(port)) return;
    if (Date.now() > deadline) throw new Error(`nothing accepted connections on port ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, PORT_POLL_INTERVAL_MS));
  }
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const handedOut = new Set();

/**
 * A port in [20000, 32768) that was free on 127.0.0.1 a moment ago and not yet handed out by this run.
 * Probing by binding is racy by nature; a server losing the race fails to start with a clear error.
 */
export async function pickFreePort() {
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = PORT_MIN + Math.floor(Math.random() * (PORT_MAX_EXCLUSIVE - PORT_MIN));
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port in [${PORT_MIN}, ${PORT_MAX_EXCLUSIVE}) after ${PORT_ATTEMPTS} attempts`);
}

function canListen(port) {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(true)));
  });
}
