/**
 * The five-minute recipes agree with each other (issue #14 item 2): every document that teaches a
 * language starts from `broker init shout --lang <lang>`, builds with `broker build shout` and serves
 * `shout/build/shout.wasm`. (test/integration/recipes.test.ts runs them.)
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (file: string): string => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

describe('five-minute recipes', () => {
  it.each([
    ['README.md', ['as']],
    ['plugin-sdk-as/README.md', ['as']],
    ['docs/plugins.md', ['c', 'rust']],
    ['plugin-sdk-c/README.md', ['c']],
    ['plugin-sdk-rust/README.md', ['rust']],
  ])('%s starts from broker init, then builds and serves the same folder', (file, langs) => {
    const text = read(file);
    for (const lang of langs) expect(text).toContain(`broker init shout --lang ${lang}`);
    expect(text).toContain('broker build shout');
    expect(text).toContain('broker serve --plugin shout/build/shout.wasm');
    expect(text).not.toMatch(/from "(\.\.\/)+plugin-sdk-as/);
  });
});
