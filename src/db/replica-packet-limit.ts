// The replica's max_allowed_packet, raised to what the source accepts when
// the user may (as the server's own replica has slave_max_allowed_packet).
// A session takes the global value as it connects: after a raise, the
// caller goes on over a new connection.
import { describeError } from '../errors.js';
import { describeBytes, packetLimitFix, PACKET_SLACK, roundedLimit } from './packet-limit.js';

interface Queryable {
  query(sql: string): Promise<[unknown, unknown]>;
}

/** This session's max_allowed_packet. */
export async function sessionPacketLimit(conn: Queryable): Promise<number> {
  const [rows] = await conn.query('SELECT @@session.max_allowed_packet AS p');
  return Number((rows as Array<{ p: number | string }>)[0]?.p ?? 0);
}

export type PacketLimitOutcome =
  | { outcome: 'enough' }
  | { outcome: 'raised'; message: string }
  | { outcome: 'refused'; message: string };

/**
 * Raises the replica's global max_allowed_packet so that a statement carrying
 * a row of `sourceBytes` (the source's max_allowed_packet) fits, when
 * `current` (the session's) is smaller: `factor` times the row (snapshot's
 * inserts carry a row once, escaped: up to twice its bytes), at most 1G.
 * The message is for the log.
 */
export async function raisePacketLimit(conn: Queryable, current: number, sourceBytes: number, factor = 1): Promise<PacketLimitOutcome> {
  const wanted = roundedLimit(factor * sourceBytes + PACKET_SLACK);
  if (!(sourceBytes > 0) || current >= wanted) return { outcome: 'enough' };
  try {
    await conn.query(`SET GLOBAL max_allowed_packet = ${wanted}`);
  } catch (error) {
    return {
      outcome: 'refused',
      message:
        `the replica's max_allowed_packet (${describeBytes(current)}) is smaller than the source's (${describeBytes(sourceBytes)}) and this user may not raise it ` +
        `(${describeError(error)}): a row larger than the replica takes will stop before it is applied; ${packetLimitFix(wanted)}`,
    };
  }
  return {
    outcome: 'raised',
    message:
      `raised the replica's max_allowed_packet from ${describeBytes(current)} to ${describeBytes(wanted)} so that every row the source accepts ` +
      `(up to ${describeBytes(sourceBytes)}) can be applied; to keep it over a replica restart, in its my.cnf [mysqld]: max_allowed_packet=${describeBytes(wanted)}`,
  };
}
