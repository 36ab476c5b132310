import { CommanderError } from 'commander';
import { BinlogSyncError, describeError } from '../errors.js';
import { processIo, type CliIo } from './io.js';
import { buildProgram, type ProgramContext } from './program.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * Runs the CLI and returns the exit status; the only place errors become exit
 * codes and one-line messages (no stack traces for anything we expect).
 */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const ctx: ProgramContext = { io, result: { exitCode: EXIT_OK } };
  try {
    const program = buildProgram(ctx);
    await program.parseAsync(argv);
    return ctx.result.exitCode;
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) {
    // Help and version "errors" are commander's way of saying it printed something.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT_OK;
    if (error.code === 'commander.help') return EXIT_USAGE; // help shown because a command was missing
    return EXIT_USAGE; // commander already printed the message
  }
  if (error instanceof BinlogSyncError) {
    // One line: a server's message may quote a statement with its line breaks.
    io.err(`binlog-sync: ${error.message.replace(/\s*\n\s*/g, ' ')}\n`);
    return error.usage ? EXIT_USAGE : EXIT_FAILURE;
  }
  // Something we did not foresee: still one line, with a hint for more detail.
  io.err(`binlog-sync: unexpected error: ${describeError(error)} (run with --log-level debug for details)\n`);
  if (io.env.BINLOG_SYNC_DEBUG_STACK) io.err(`${(error as Error)?.stack ?? ''}\n`);
  return EXIT_FAILURE;
}
