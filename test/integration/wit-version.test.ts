/**
 * The WIT package version (wit/plugin.wit, "Versions"): the broker serves one version, and a
 * component built for another is refused at load with one line naming both.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { loadPlugin } from '../../host/plugin/load/loader.js';
import { WIT_PACKAGE, WIT_VERSION } from '../../host/plugin/world.js';
import { BROKER_BIN, ECHO_WASM, ROOT, fixture } from '../helpers/paths.js';

describe('WIT package version', () => {
  it('is 0.2.0, and the echo plugin built from the current SDK loads', async () => {
    expect(WIT_PACKAGE).toBe('plugbroker:plugin@0.2.0');
    const spec = await loadPlugin(ECHO_WASM);
    expect(spec.name).toBe('echo');
  });

  it('refuses a component built for 0.1.0, naming both versions', async () => {
    const err = await loadPlugin(fixture('echo-0.1.0')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'PB_ERR_PLUGIN_WIT_VERSION', found: '0.1.0', expected: WIT_VERSION });
    expect((err as Error).message).toContain('plugbroker:plugin@0.1.0');
    expect((err as Error).message).toContain('plugbroker:plugin@0.2.0');
  });

  it('makes `broker serve` exit 1 with one line for a 0.1.0 component', async () => {
    const proc = spawn(process.execPath, [BROKER_BIN, 'serve', '--plugin', fixture('echo-0.1.0'), '--port', '0'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    const [code] = await once(proc, 'exit');
    clearTimeout(timer);
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^broker: .*plugbroker:plugin@0\.1\.0.*plugbroker:plugin@0\.2\.0.* \[PB_ERR_PLUGIN_WIT_VERSION\]$/);
  });
});
