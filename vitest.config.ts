import { defineConfig } from 'vitest/config';

// Two projects, as in node-pg-migrate: fast unit tests of the pure parts, and
// integration tests against real MariaDB/MySQL servers that the global setup
// starts once per run (see test/support/global-setup.ts).
export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          sequence: { groupOrder: 0 },
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          sequence: { groupOrder: 1 },
          // The source and replica servers run in America/New_York and Asia/Tokyo
          // (test/support/servers.ts); the tests and the CLI they start run in a
          // third zone with a half-hour offset, so no time-zone mistake cancels out.
          env: { TZ: 'Australia/Adelaide' },
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Two cores: more workers only make the servers and the replicator fight.
          maxWorkers: 2,
        },
      },
    ],
  },
});
