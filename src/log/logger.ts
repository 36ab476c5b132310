import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import type * as Pino from 'pino';
import type PinoPretty from 'pino-pretty';
import { redactSecrets, REDACTED } from './secrets.js';

export type Logger = Pino.Logger;

export interface LoggerOptions {
  level?: string;
  /** Default: pretty when stderr is a terminal, JSON lines otherwise. */
  format?: 'json' | 'pretty';
  /** Where lines go; default stderr (stdout is reserved for command output). */
  write?: (line: string) => void;
}

/** For a short blocking sleep while the reader of a full stderr pipe catches up. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes a whole line to stderr, synchronously. A pipe to a slow reader may
 * be full (EAGAIN: Node makes pipes non-blocking) or take part of the line:
 * wait a moment and write the rest, rather than lose it or crash the
 * replicator. A stderr nobody reads any more (EPIPE) drops the line.
 */
export function writeStderr(line: string, fd = 2): void {
  let rest = Buffer.from(line);
  while (rest.length > 0) {
    try {
      rest = rest.subarray(writeSync(fd, rest));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN' && code !== 'EBUSY') return;
      Atomics.wait(PAUSE, 0, 0, 2);
    }
  }
}

const require = createRequire(import.meta.url);

/**
 * pino, loaded when the first logger is made rather than with this module:
 * `start` has its decoding thread loading its modules before (see
 * cli/actions/start.ts).
 */
function loadPino(): typeof Pino.pino {
  return (require('pino') as typeof Pino).pino;
}

/**
 * pino-pretty, loaded only when lines are to be pretty: a service or a pipe
 * logs JSON lines, and loading it would only slow every start-up down.
 */
function loadPretty(): typeof PinoPretty {
  return require('pino-pretty') as typeof PinoPretty;
}

/**
 * The one logger factory. Lines are written synchronously to stderr (so the
 * last lines before an exit are never lost) after every registered secret has
 * been scrubbed from them; keys that usually hold secrets are censored too.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => writeStderr(line));
  const scrubbed: Pino.DestinationStream = { write: (line: string) => write(redactSecrets(line)) };
  const format = options.format ?? (process.stderr.isTTY ? 'pretty' : 'json');
  const destination =
    format === 'pretty'
      ? loadPretty()({
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
  const pino = loadPino();
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
