import { Command, Option } from 'commander';
import { SETTING_SPECS, type SettingSpec } from '../config/setting-specs.js';

/** Options every command accepts: where settings and state live, and logging. */
export const COMMON_SETTINGS = ['state', 'log-level', 'log-format'] as const;
export const SOURCE_SETTINGS = [
  'source',
  'source-password-file',
  'source-ssl-mode',
  'source-ssl-ca',
  'source-ssl-cert',
  'source-ssl-key',
] as const;
export const REPLICA_SETTINGS = SOURCE_SETTINGS.map((s) => s.replace('source', 'replica'));
export const FILTER_SETTINGS = ['databases', 'include-tables', 'exclude-tables', 'rewrite-db'] as const;
/** The masking rules and their key: snapshot, start, verify and check take them alike. */
export const MASK_SETTINGS = ['mask', 'mask-key-file'] as const;

/** A relay's NATS stream: credentials and TLS (the URL is --to or --from). */
export const NATS_SETTINGS = ['nats-creds', 'nats-password-file', 'nats-token-file', 'nats-tls-ca', 'nats-tls-cert', 'nats-tls-key'] as const;

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function optionFor(spec: SettingSpec): Option {
  const option = new Option(`--${spec.flag} <${spec.valueName.toLowerCase()}>`, spec.description);
  // The variable is named in the help text rather than wired with commander's
  // .env(): that would bypass our precedence and validation.
  const notes = [`env ${spec.env}`];
  if (spec.defaultText) notes.unshift(`default: ${spec.defaultText}`);
  if (spec.choices) notes.unshift(`one of ${spec.choices.join(', ')}`);
  option.description = `${spec.description} (${notes.join('; ')})`;
  if (spec.repeatable) option.argParser(collect);
  return option;
}

/**
 * Adds the flags of the named settings to a command. No commander defaults:
 * an absent flag must stay undefined so the environment and config file can
 * supply the value (precedence flag > env > file > default).
 */
export function addSettingOptions(command: Command, flags: readonly string[]): Command {
  for (const flag of flags) {
    const spec = SETTING_SPECS.find((s) => s.flag === flag);
    if (!spec) throw new Error(`unknown setting ${flag}`);
    if (spec.secret) continue; // passwords never travel as flags (they would show in `ps`)
    command.addOption(optionFor(spec));
  }
  return command;
}
