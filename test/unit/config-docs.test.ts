/**
 * Docs match the schema: every option has its row in docs/configuration.md (file key, flag,
 * variable) and its flag in the README's `broker serve` table.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPTION_DEFS } from '../../host/config.js';

const configDoc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('option docs', () => {
  it.each(OPTION_DEFS.map((d) => [d.flag, d] as const))('document %s in docs/configuration.md and the README', (_, def) => {
    const arg = def.meta.arg === undefined ? '' : ` ${def.meta.arg.replaceAll('|', '\\|')}`;
    expect(configDoc).toContain(`| \`${def.fileKey}\` | \`${def.flag}${arg}\` | \`${def.envVar}\` |`);
    expect(readme).toMatch(new RegExp(`^\\| \`${def.flag}[ \`]`, 'm'));
  });
});
