import { writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';
import { redactSecrets, REDACTED } from './secrets.js';

export type Logger = PinoLogger;

export interface LoggerOptions {
  level?: string;
  /** Default: pretty when stderr is a terminal, JSON lines otherwise. */
  format?: 'json' | 'pretty';
  /** Where lines go; default stderr (stdout is reserved for command output). */
  write?: (line: string) => void;
}

const writeStderr = (line: string): void => {
  writeSync(2, line);
};

/**
 * The one logger factory. Lines are written synchronously to stderr (so the
 * last lines before an exit are never lost) after every registered secret has
 * been scrubbed from them; keys that usually hold secrets are censored too.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const write = options.write ?? writeStderr;
  const scrubbed: DestinationStream = { write: (line: string) => write(redactSecrets(line)) };
  const format = options.format ?? (process.stderr.isTTY ? 'pretty' : 'json');
  const destination =
    format === 'pretty'
      ? pretty({
          // pino-pretty needs a real stream; this one writes through synchronously.
          destination: new Writable({
            write(chunk: Buffer | string, _encoding, callback) {
              scrubbed.write(chunk.toString());
              callback();
            },
          }),
          colorize: options.write === undefined && Boolean(process.stderr.isTTY),
          sync: true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname',
        })
      : scrubbed;
  return pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid },
      redact: {
        paths: ['password', '*.password', '*.*.password', 'headers.authorization'],
        censor: REDACTED,
      },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
