// What the status page marks on its charts, from a run's typed events: the
// error that ended a session (retried), the session streaming again, and the
// error that stopped the run; the first session streaming is no reconnect.
import { describe, expect, it } from 'vitest';
import { RunHistory } from '../../../src/health/history.js';
import { markRunEvents } from '../../../src/health/serve-run.js';
import { RunEvents } from '../../../src/replicator/run-events.js';

describe('markRunEvents', () => {
  it('marks retried errors, reconnects and the error that stops the run, in order', () => {
    const events = new RunEvents();
    const history = new RunHistory();
    markRunEvents(events, history);
    const position = { file: 'mysql-bin.000003', position: 1234, gtid: '0-1-9' };
    events.emit('streaming', { position });
    events.emit('reconnect', { attempt: 1, delayMs: 1500, error: 'the binlog stream from the source failed: Connection lost' });
    events.emit('streaming', { position });
    events.emit('stopped', { position, error: 'binlog mysql-bin.000003 has been purged on the source' });
    const marks = history.since().marks.map(({ kind, text }) => ({ kind, text }));
    expect(marks).toEqual([
      { kind: 'error', text: 'the binlog stream from the source failed: Connection lost (retried after 1.5 s)' },
      { kind: 'reconnect', text: expect.stringMatching(/^streaming again from mysql-bin\.000003:1234/) },
      { kind: 'error', text: 'stopped: binlog mysql-bin.000003 has been purged on the source' },
    ]);
  });

  it('marks nothing for a run stopped by its caller', () => {
    const events = new RunEvents();
    const history = new RunHistory();
    markRunEvents(events, history);
    events.emit('streaming', { position: { file: 'mysql-bin.000001', position: 4, gtid: null } });
    events.emit('stopped', { position: null, error: null });
    expect(history.since().marks).toEqual([]);
  });
});
