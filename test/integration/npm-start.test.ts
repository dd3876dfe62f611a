/**
 * `npm start` (issue #14 item 5): it builds only what is missing or stale (nothing, right after a
 * build), and SIGTERM to npm itself stops the broker (the script `exec`s it, so no shell sits
 * between npm and the broker to swallow the signal).
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);

/** True while process `pid` exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start', () => {
  it('builds nothing when nothing is stale, and stops the broker when npm gets SIGTERM', async () => {
    // Whatever an edit made stale is built now; afterwards the start must find nothing to build.
    await run(process.execPath, ['scripts/ensure-built.js'], { cwd: ROOT });
    const npm = spawn('npm', ['start', '--', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    npm.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const exited = once(npm, 'exit');
    try {
      const listening = await new Promise<{ pid: number; port: number }>((resolve, reject) => {
        npm.stdout.setEncoding('utf8').on('data', (s: string) => {
          stdout += s;
          const line = stdout.split('\n').find((l) => l.includes('"msg":"listening"'));
          if (line) resolve(JSON.parse(line) as { pid: number; port: number });
        });
        npm.once('exit', (code) => reject(new Error(`npm start exited (${code}): ${stderr}`)));
      });
      expect(stderr).not.toContain('npm start: building');
      expect(listening.pid).not.toBe(npm.pid);
      npm.kill('SIGTERM');
      await exited;
      await waitFor(() => !alive(listening.pid), `broker process ${listening.pid} to exit`, { deadlineMs: 20_000 });
      expect(stdout).toContain('"signal":"SIGTERM"');
    } finally {
      npm.kill('SIGKILL');
    }
  }, 120_000);
});
