import { defineConfig } from 'vitest/config';

/**
 * `npm run fuzz`: the long decoder fuzz run, kept out of `npm test` (whose include is
 * `test/**\/*.test.ts`). `--expose-gc` lets it measure memory after full collections; the time
 * budget is `FUZZ_SECONDS` (default 60), and each test sets its own timeout from it.
 */
export default defineConfig({
  test: {
    include: ['test/fuzz/**/*.fuzz.ts'],
    pool: 'forks',
    execArgv: ['--expose-gc'],
  },
});
