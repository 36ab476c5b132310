// Pure: the replica's max_allowed_packet against what the source accepts,
// and the words that tell an operator how to raise it.

/** The most a server accepts (1 GiB): the source's limit can never be more. */
export const MAX_PACKET_LIMIT = 1024 * 1024 * 1024;

/** Room left in a packet for the statement around a value (and the protocol's header). */
export const PACKET_SLACK = 64 * 1024;

/** A byte count the way an operator reads it: 16M, 256M, 1G, or bytes. */
export function describeBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 * 1024 && bytes % (1024 * 1024 * 1024) === 0) return `${bytes / (1024 * 1024 * 1024)}G`;
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)}M`;
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  return `${bytes} bytes`;
}

/** The limit to set, rounded up to whole MiB (what my.cnf users write). */
export function roundedLimit(bytes: number): number {
  const mib = 1024 * 1024;
  return Math.min(MAX_PACKET_LIMIT, Math.ceil(bytes / mib) * mib);
}

/** `SET GLOBAL` now, and the my.cnf line that keeps it over a restart. */
export function packetLimitFix(bytes: number): string {
  const value = roundedLimit(bytes);
  return `SET GLOBAL max_allowed_packet=${value}; and in the replica's my.cnf [mysqld]: max_allowed_packet=${describeBytes(value)}`;
}
