import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (pure units: no global setup, no build needed, `npm run test:unit`) and
 * `integration` (real sockets, real plugins and processes; the global setup builds the fixtures and
 * checks that the sample plugins are built). `npm test` runs both.
 */
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/conformance/**/*.test.ts'],
          // Integration suites open real sockets and spawn brokers: one process per file keeps them apart.
          pool: 'forks',
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
