// How every part of the apply path says where a failure happened: the
// source position of the statement (GTID, file and offset), the table and
// the kind of statement, in messages and in the state file's last error.
import type { DriverError } from '../db/server-errors.js';
import type { FailureLocation } from '../errors.js';
import type { ApplyContext } from './statement-buffer.js';

/** Statements that belong to no source position (session settings, XA bookkeeping). */
export const NO_CONTEXT: ApplyContext = { gtid: null, file: null, position: null };

/** The server's error number behind one of our errors (ReplicaConnection.run keeps the driver's error as the cause); -1 when none. */
export function serverErrno(error: unknown): number {
  return (error as { cause?: DriverError } | undefined)?.cause?.errno ?? -1;
}

export function locationOf(context: ApplyContext, table: string | null, statement: string): FailureLocation {
  return { gtid: context.gtid, file: context.file, position: context.position, table, statement };
}

export function describeContext(context: ApplyContext): string {
  const parts: string[] = [];
  if (context.gtid) parts.push(`GTID ${context.gtid}`);
  if (context.file) parts.push(`${context.file}:${context.position ?? '?'}`);
  return parts.join(', ') || 'an unknown position';
}
