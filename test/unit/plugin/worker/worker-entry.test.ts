import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { workerEntry } from '../../../../host/plugin/worker/worker-entry.js';

const tempCopies = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith('plugbroker-worker-'));

describe('workerEntry from the TypeScript sources', () => {
  it('transpiles the worker into the package cache, leaving no temporary folder behind (#14, #15)', async () => {
    const before = new Set(tempCopies());
    const url = await workerEntry();
    const path = fileURLToPath(url);
    expect(path).toMatch(/node_modules\/\.cache\/plugbroker-worker\/[0-9a-f]{16}\/plugin\/worker\/worker-thread\.js$/);
    expect(existsSync(path)).toBe(true);
    // Its imports were transpiled beside it (the closure of the entry).
    expect(existsSync(fileURLToPath(new URL('./effect-recorder.js', url)))).toBe(true);
    expect(existsSync(fileURLToPath(new URL('../../host-api/host.js', url)))).toBe(true);
    expect(await workerEntry()).toBe(url);
    expect(tempCopies().filter((n) => !before.has(n))).toEqual([]);
  });
});
