/**
 * The browser build has no runtime dependency: every module reachable from
 * client-sdk-ts/src/browser.ts imports only relative modules of the package (no `ws`, no `node:*`),
 * so the compiled files load as plain ES modules in a page (test/integration/chat-web.test.ts
 * loads them in Chromium).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/paths.js';

const SRC = join(ROOT, 'client-sdk-ts/src');

/** Runtime imports of a TS module (`import type` and `export type` erase at build). */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs: string[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
    if (m[2] === undefined) specs.push(m[3]);
  }
  for (const m of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) specs.push(m[1]);
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]);
  return specs;
}

function graph(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const walk = (file: string): void => {
    if (seen.has(file)) return;
    const specs = runtimeImports(file);
    seen.set(file, specs);
    for (const s of specs) if (s.startsWith('.')) walk(resolve(dirname(file), s.replace(/\.js$/, '.ts')));
  };
  walk(entry);
  return seen;
}

describe('client SDK browser build', () => {
  it('reaches only relative modules of the package from browser.ts', () => {
    const g = graph(join(SRC, 'browser.ts'));
    const external = [...g].flatMap(([file, specs]) => specs.filter((s) => !s.startsWith('.')).map((s) => `${file}: ${s}`));
    expect(external).toEqual([]);
    expect([...g.keys()].some((f) => f.includes('/transports/stream.ts'))).toBe(false);
    expect(g.size).toBeGreaterThan(5); // the walk followed the imports
  });

  it('the Node build does use ws and node:net (the walk sees bare imports)', () => {
    const specs = [...graph(join(SRC, 'node.ts')).values()].flat();
    expect(specs).toContain('ws');
    expect(specs).toContain('node:net');
  });
});
