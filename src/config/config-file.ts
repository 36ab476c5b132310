import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname } from 'node:path';
import type * as Yaml from 'yaml';
import { ConfigError } from '../errors.js';
import { findSpec } from './setting-specs.js';

export interface ConfigFile {
  path: string;
  /** Folder of the file: relative paths inside it are resolved against it. */
  dir: string;
  /** Values keyed by camelCase setting key. */
  values: Record<string, unknown>;
}

/** The YAML parser, loaded for a YAML file only: most runs have no config file, or a JSON one. */
function parseYaml(text: string): unknown {
  return (createRequire(import.meta.url)('yaml') as typeof Yaml).parse(text);
}

/**
 * Reads a JSON or YAML config file (YAML is a superset of JSON, so anything
 * but `.json` goes through the YAML parser). Keys may be camelCase or the
 * flag's kebab-case; an unknown key is an error so typos do not pass silently.
 */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read';
    throw new ConfigError(`config file ${path} ${reason} (--config / BINLOG_SYNC_CONFIG)`, { cause: error });
  }
  let data: unknown;
  try {
    data = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    const first = ((error as Error).message ?? '').split('\n')[0];
    throw new ConfigError(`config file ${path} is not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${first}`, {
      cause: error,
    });
  }
  if (data === null || data === undefined) data = {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(`config file ${path} must hold an object of settings`);
  }
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    const spec = findSpec(key);
    if (!spec) throw new ConfigError(`config file ${path} has an unknown setting '${key}'`);
    values[spec.key] = value;
  }
  return { path, dir: dirname(path), values };
}
