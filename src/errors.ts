// Every failure binlog-sync reports has its own class here, with a stable code
// (for scripts and the state file), a retryable flag (for the reconnect loops)
// and a message that tells the user what to do next. Only cli/ turns these into
// exit codes and printed lines.
import { isTransientDriverError } from './db/server-errors.js';

export interface ErrorOptions {
  cause?: unknown;
}

export abstract class BinlogSyncError extends Error {
  /** Stable machine-readable code, e.g. `USAGE`, `SOURCE_UNREACHABLE`. */
  abstract readonly code: string;
  /** True when trying the same thing again later may succeed. */
  readonly retryable: boolean = false;
  /** Usage errors exit 2, everything else 1 (see the CLI contract). */
  readonly usage: boolean = false;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The command line, a setting or the config file is wrong: exit 2. */
export class UsageError extends BinlogSyncError {
  readonly code: string = 'USAGE';
  override readonly usage = true;
}

/** A setting has a value we cannot accept (names the setting to fix). */
export class ConfigError extends UsageError {
  override readonly code = 'CONFIG';
}

/** A server could not be reached or refused us; worth retrying. */
export class ConnectionError extends BinlogSyncError {
  readonly code: string = 'CONNECTION';
  override readonly retryable: boolean = true;
}

/** The server answered but rejected our credentials; retrying will not help. */
export class AuthenticationError extends ConnectionError {
  override readonly code = 'AUTHENTICATION';
  override readonly retryable = false;
}

/** A TLS connection was refused: untrusted certificate, wrong host name, no TLS on the server. */
export class TlsError extends ConnectionError {
  override readonly code = 'TLS';
  override readonly retryable = false;
}

/** The SQLite state file is missing, unreadable or not ours. */
export class StateError extends BinlogSyncError {
  readonly code = 'STATE';
}

/** Another process holds the state file (one replicator per state file). */
export class StateLockedError extends BinlogSyncError {
  readonly code = 'STATE_LOCKED';
}

/**
 * Another process took over this state file and replication stream while
 * this one was stalled (its heartbeat went stale): it must stop at once and
 * commit nothing more. Not retryable, and never recorded as the stream's
 * error (the stream is the new runner's now).
 */
export class FencedError extends BinlogSyncError {
  readonly code = 'FENCED';
}

/** A server is not configured the way replication needs (binlog off, wrong format, ...). */
export class ServerConfigError extends BinlogSyncError {
  readonly code = 'SERVER_CONFIG';
}

/** The binlog file a position needs is gone from the source. */
export class BinlogPurgedError extends BinlogSyncError {
  readonly code = 'BINLOG_PURGED';
}

/** Where in the source's binlog a failure happened (recorded in the state, shown by `status`). */
export interface FailureLocation {
  gtid: string | null;
  file: string | null;
  position: number | null;
  table: string | null;
  statement: string | null;
}

/** Applying a source transaction failed in a way that retrying cannot fix. */
export class ApplyError extends BinlogSyncError {
  readonly code: string = 'APPLY';
  readonly location: FailureLocation | undefined;

  constructor(message: string, options?: ErrorOptions & { location?: FailureLocation }) {
    super(message, options);
    this.location = options?.location;
  }
}

/**
 * A statement would be larger than the replica's max_allowed_packet: found
 * before it is sent, so nothing of its transaction commits; the message
 * names the table, the size, the limit and the fix.
 */
export class PacketLimitError extends ApplyError {
  override readonly code = 'PACKET_LIMIT';
}

/**
 * The replica's max_allowed_packet was raised for a statement larger than
 * the limit the session started with (which a session cannot change): its
 * transaction is rolled back and applied again over a new connection.
 */
export class PacketLimitRaisedError extends ApplyError {
  override readonly code = 'PACKET_LIMIT_RAISED';
  override readonly retryable = true;
}

/** Applying failed for a transient reason (deadlock, lock wait, lost connection). */
export class TransientApplyError extends ApplyError {
  override readonly code = 'APPLY_TRANSIENT';
  override readonly retryable = true;
}

/**
 * The open replica transaction was rolled back so that it can be applied
 * again, carefully: a transaction failed inside a commit group, a batch that
 * spans several rows events failed, a LOAD DATA took fewer rows than sent
 * or was refused, or the source rolled back inside a group. The session
 * starts again from the last durable position and applies those source
 * transactions one at a time, statement by statement, so that a failing one
 * stands alone and its error and position are exact.
 */
export class CarefulRetryError extends BinlogSyncError {
  readonly code = 'CAREFUL_RETRY';
  override readonly retryable = true;
}

/** The binlog holds an event we cannot decode faithfully; refusing beats skipping. */
export class UnsupportedEventError extends BinlogSyncError {
  readonly code = 'UNSUPPORTED_EVENT';
}

/**
 * `replay` was given files it cannot apply as they are: not a binlog, out of
 * order, a gap, a truncated file that is not the last, a stop point not in
 * them. Found before anything is applied; the files (or options) must change.
 */
export class ReplayInputError extends BinlogSyncError {
  readonly code = 'REPLAY_INPUT';
}

/** The metrics endpoint could not be served (port taken, address not ours). */
export class MetricsServerError extends BinlogSyncError {
  readonly code = 'METRICS';
}

/**
 * Masking cannot be honoured: a rule that fits no column (email on an
 * integer, null on NOT NULL), a rule naming a column the source lacks, a
 * replica seeded with other rules or another key, or two distinct values of
 * a unique column masked to one. Never retried: the rules or the replica must change.
 */
export class MaskError extends BinlogSyncError {
  readonly code = 'MASK';
}

/**
 * The relay's NATS JetStream stream cannot serve what is asked of it: it was
 * made for something else (other subjects), a message is not one of ours, or
 * it no longer holds the messages a replica's position needs (retention
 * removed them). Not retried: the stream, or the replica, must change.
 */
export class RelayStreamError extends BinlogSyncError {
  readonly code = 'RELAY_STREAM';
}

/** The NATS server could not be reached, or a publish or read failed on the way: worth retrying. */
export class NatsConnectionError extends ConnectionError {
  override readonly code = 'NATS_CONNECTION';
}

/** Short, user-facing description of anything thrown. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** True when trying again later may succeed (our retryable errors, and transient driver errors). */
export function isRetryable(error: unknown): boolean {
  if (error instanceof BinlogSyncError) return error.retryable;
  return isTransientDriverError(error);
}
