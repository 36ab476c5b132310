// The masking settings of a command: the rules, and the secret key of the
// keyed methods read from --mask-key-file. The key is registered as a secret
// the moment it is read (so no log line or error can carry it) and only its
// fingerprint, from which it cannot be recovered, is ever kept.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { registerSecret } from '../log/secrets.js';
import type { MaskSettings } from './masker.js';
import { KEYED_METHODS, parseMaskRules } from './rules.js';

/** Fewer bytes than this could be guessed. */
export const MIN_KEY_BYTES = 16;

export interface MaskingInputs {
  mask: readonly string[];
  maskKeyFile?: string | undefined;
}

/** The masking a command runs with; a clear error for a bad rule, a missing or short key. */
export function loadMasking(settings: MaskingInputs): MaskSettings {
  const rules = parseMaskRules(settings.mask);
  const keyed = rules.find((r) => KEYED_METHODS.has(r.method.name));
  if (keyed && !settings.maskKeyFile) {
    throw new ConfigError(
      `mask rule ${keyed.text} needs the secret key: --mask-key-file FILE (or BINLOG_SYNC_MASK_KEY_FILE); make one with \`openssl rand -hex 32 > mask.key\``,
    );
  }
  if (!settings.maskKeyFile) return { rules: settings.mask };
  return { rules: settings.mask, key: readKey(settings.maskKeyFile) };
}

function readKey(path: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new ConfigError(`cannot read the mask key file ${path} (--mask-key-file): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  // A line ending that an editor or `echo` added is not part of the key.
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
  const key = bytes.subarray(0, end);
  registerSecret(key.toString('utf8'));
  if (key.length < MIN_KEY_BYTES) {
    throw new ConfigError(
      `the mask key file ${path} holds ${key.length} bytes; use at least ${MIN_KEY_BYTES} random bytes, e.g. \`openssl rand -hex 32 > ${path}\``,
    );
  }
  return Buffer.from(key);
}

/** What identifies a key without revealing it: a keyed digest of a fixed text, 16 hex digits. */
export function keyFingerprint(key: Uint8Array): string {
  return createHmac('sha256', key).update('binlog-sync mask key fingerprint').digest('hex').slice(0, 16);
}
