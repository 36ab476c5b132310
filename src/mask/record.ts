// The masking a replica was seeded with, recorded beside its checkpoint
// (binlog_sync.positions.masking): the rules in the order they apply, and the
// fingerprint of the key when a keyed method is among them. `start` refuses
// to add rows masked another way to a copy masked one way. Pure.
import { MaskError } from '../errors.js';
import { keyFingerprint } from './key.js';
import type { MaskSettings } from './masker.js';
import { KEYED_METHODS, parseMaskRules } from './rules.js';

export interface MaskingRecord {
  rules: string[];
  /** The key's fingerprint, when a keyed method is used; null otherwise. */
  key: string | null;
}

/** The record of a run's masking; null when nothing is masked. */
export function maskingRecord(settings: MaskSettings): MaskingRecord | null {
  const rules = parseMaskRules(settings.rules);
  if (rules.length === 0) return null;
  const keyed = rules.some((r) => KEYED_METHODS.has(r.method.name));
  return { rules: rules.map((r) => r.text), key: keyed && settings.key ? keyFingerprint(settings.key) : null };
}

export function serializeRecord(record: MaskingRecord | null): string | null {
  return record ? JSON.stringify(record) : null;
}

export function parseRecord(text: string | null | undefined): MaskingRecord | null {
  if (!text) return null;
  const parsed = JSON.parse(text) as Partial<MaskingRecord>;
  return { rules: Array.isArray(parsed.rules) ? parsed.rules.map(String) : [], key: typeof parsed.key === 'string' ? parsed.key : null };
}

function describe(record: MaskingRecord | null): string {
  if (!record) return 'no masking';
  return `${record.rules.join(', ')}${record.key ? ` with the key of fingerprint ${record.key}` : ''}`;
}

/**
 * Refuses masking other than the replica was seeded with: its rows were
 * masked the recorded way, and rows masked another way would not match them
 * (joins, the before images that locate rows, unique keys).
 */
export function assertSameMasking(recorded: MaskingRecord | null, current: MaskingRecord | null): void {
  const same =
    (recorded?.key ?? null) === (current?.key ?? null) &&
    JSON.stringify(recorded?.rules ?? []) === JSON.stringify(current?.rules ?? []);
  if (same) return;
  const keyOnly = recorded && current && JSON.stringify(recorded.rules) === JSON.stringify(current.rules);
  throw new MaskError(
    `the replica was seeded with ${keyOnly ? 'another mask key' : 'other masking'} than this run's ` +
      `(replica: ${describe(recorded)}; now: ${describe(current)}); its rows were masked that way: ` +
      'run `binlog-sync snapshot --drop-existing` with the new --mask rules and key to mask the copy afresh, or run with the masking it was seeded with',
  );
}
