// A command's action is imported when that command runs, not when the
// program is built: `binlog-sync start` then loads what `start` needs and
// nothing of snapshot (cli-progress), check, verify or the demo (its
// servers). Loading modules is most of a command's start-up time.
import type { Command } from 'commander';
import type { ProgramContext } from './context.js';

/** What an action module exports per command: the action, given the program's context. */
export type CommandAction<O> = (opts: O, command: Command, ctx: ProgramContext) => Promise<void> | void;

/** The commander action that imports its implementation (`load`) and runs it. */
export function lazyAction<O>(ctx: ProgramContext, load: () => Promise<CommandAction<O>>): (opts: O, command: Command) => Promise<void> {
  return async (opts, command) => {
    const action = await load();
    await action(opts, command, ctx);
  };
}
