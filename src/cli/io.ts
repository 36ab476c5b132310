import { writeSync } from 'node:fs';
import { redactSecrets } from '../log/secrets.js';

/** Where a command's output and messages go; injectable so tests can capture them. */
export interface CliIo {
  /** The command's own output (text, or one JSON document). */
  out(text: string): void;
  /** Messages for the person at the terminal: errors, hints. Never command output. */
  err(text: string): void;
  env: Record<string, string | undefined>;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
}

export function processIo(): CliIo {
  return {
    out: (text) => {
      try {
        writeSync(1, text);
      } catch (error) {
        // The reader has gone (`binlog-sync --help | head`): there is no one left to tell.
        if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
      }
    },
    // Everything on stderr is scrubbed: an error message may quote a driver
    // message or an URL that holds a password.
    err: (text) => writeSync(2, redactSecrets(text)),
    env: process.env,
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
  };
}
