// What every command action is given: where it writes, and where it leaves
// its exit status for `main`. (Apart from program.ts, which imports every
// command: the commands import this, not the program.)
import type { CliIo } from './io.js';

/** What a command action reports back to `main`: its exit status. */
export interface CommandResult {
  exitCode: number;
}

export interface ProgramContext {
  io: CliIo;
  /** Commands store their exit status here (commander actions return nothing useful). */
  result: CommandResult;
}
