import { defineConfig } from 'vitest/config';

// Projects, as in node-pg-migrate: fast unit tests of the pure parts, and
// integration tests against real MariaDB/MySQL servers that the global setup
// starts once per run (see test/support/global-setup.ts). `start` applies row
// events by the replica's own row code (BINLOG statements) where it can, and
// as SQL statements otherwise: the exactness suites run once more on the SQL path.
const integration = {
  environment: 'node' as const,
  globalSetup: ['test/support/global-setup.ts'],
  // The source and replica servers run in America/New_York and Asia/Tokyo
  // (test/support/servers.ts); the tests and the CLI they start run in a
  // third zone with a half-hour offset, so no time-zone mistake cancels out.
  env: { TZ: 'Australia/Adelaide' } as Record<string, string>,
  testTimeout: 120_000,
  hookTimeout: 180_000,
  // Two cores: more workers only make the servers and the replicator fight.
  maxWorkers: 2,
};

/** Suites whose results the server's own replica (or exact expectations) prove, and faults: run on both row paths. */
const BOTH_PATHS_SUITES = [
  'differential',
  'types',
  'dml',
  'ddl',
  'locate-exact',
  'xa',
  'sequences',
  'statements',
  'mixed-workload',
  'atomicity',
  'fencing',
  'row-paths',
  'unfixable-errors',
  'connection-faults',
  'exact-values',
  'suite-traps',
  'replay',
].map((name) => `test/integration/${name}.test.ts`);

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
          sequence: { groupOrder: 1 },
          ...integration,
        },
      },
      {
        test: {
          name: 'integration-sql',
          include: BOTH_PATHS_SUITES,
          sequence: { groupOrder: 2 },
          ...integration,
          env: { ...integration.env, BINLOG_SYNC_TEST_ROW_APPLIER: 'sql' },
        },
      },
    ],
  },
});
