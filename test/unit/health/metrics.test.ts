// Row counts by table and kind, as a scrape of /metrics reads them: counted
// as rows events are applied, added up across scrapes.
import { describe, expect, it } from 'vitest';
import { ReplicationMetrics } from '../../../src/health/metrics.js';
import { StreamHealth } from '../../../src/health/stream-health.js';
import type { TableDef } from '../../../src/source/events.js';

const rides: TableDef = { database: 'park', table: 'rides', columns: [{ name: 'id', kind: 'plain' }], primaryKey: [0] };

describe('metrics', () => {
  it('counts rows by table and kind, the same table under a new definition (after a DDL) included, across scrapes', async () => {
    const metrics = new ReplicationMetrics({ health: new StreamHealth(), position: () => null, lagThreshold: 60 });
    const rows = async (): Promise<string[]> => (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith('binlog_sync_rows_applied_total{'));
    metrics.rowsApplied(rides, 'insert', 2);
    metrics.rowsApplied(rides, 'update', 1);
    expect(await rows()).toEqual(['binlog_sync_rows_applied_total{table="park.rides",kind="insert"} 2', 'binlog_sync_rows_applied_total{table="park.rides",kind="update"} 1']);
    metrics.rowsApplied(rides, 'insert', 3);
    metrics.rowsApplied({ ...rides, columns: [...rides.columns, { name: 'name', kind: 'plain' }] }, 'insert', 1);
    metrics.rowsApplied(rides, 'delete', 4);
    expect(await rows()).toEqual([
      'binlog_sync_rows_applied_total{table="park.rides",kind="insert"} 6',
      'binlog_sync_rows_applied_total{table="park.rides",kind="update"} 1',
      'binlog_sync_rows_applied_total{table="park.rides",kind="delete"} 4',
    ]);
  });
});
