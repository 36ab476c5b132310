// What the command actions share: settings, the logger, required settings.
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import type { Command } from 'commander';
import { loadSettings, type Settings } from '../config/settings.js';
import { ConfigError } from '../errors.js';
import { createLogger, type Logger } from '../log/logger.js';
import type { CliIo } from './io.js';

export interface CommandEnv {
  settings: Settings;
  logger: Logger;
}

/** Settings for a command from its parsed flags, the environment and the config file. */
export function settingsFor(command: Command, env: Record<string, string | undefined>): Settings {
  const opts = command.optsWithGlobals<Record<string, unknown>>();
  const { config, ...flags } = opts;
  return loadSettings({ flags, env, configPath: typeof config === 'string' ? config : undefined });
}

export function commandEnv(command: Command, io: CliIo): CommandEnv {
  const settings = settingsFor(command, io.env);
  return { settings, logger: loggerFor(settings) };
}

/** The logger the settings ask for (--log-level, --log-format). */
export function loggerFor(settings: Settings): Logger {
  return createLogger({ level: settings.logLevel, ...(settings.logFormat ? { format: settings.logFormat } : {}) });
}

export function requireDatabases(settings: Settings, command: string): void {
  if (settings.databases.length === 0) {
    throw new ConfigError(`${command} needs --databases (or BINLOG_SYNC_DATABASES), e.g. --databases themepark_tracker`);
  }
}

/**
 * The server id announced to the source when none is set: stable for a state
 * file (so a restart reuses it and the source drops the old dump thread), and
 * high enough not to collide with the small ids servers usually get.
 */
export function defaultServerId(statePath: string): number {
  let path = statePath;
  try {
    path = join(realpathSync(dirname(statePath)), basename(statePath));
  } catch {
    // The folder does not exist yet; the state store reports that properly.
  }
  const hash = createHash('sha256').update(path).digest();
  return 100_000 + (hash.readUInt32BE(0) % (4_294_967_295 - 100_000));
}

/** One JSON document on stdout. */
export function printJson(io: CliIo, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}
