import type { Command } from 'commander';
import type { ProgramContext } from '../context.js';
import { registerCheckCommand } from './check.js';
import { registerDemoCommand } from './demo.js';
import { registerPositionCommand } from './position.js';
import { registerRelayCommand } from './relay.js';
import { registerReplayCommand } from './replay.js';
import { registerSkipCommand } from './skip.js';
import { registerSnapshotCommand } from './snapshot.js';
import { registerStartCommand } from './start.js';
import { registerStatusCommand } from './status.js';
import { registerVerifyCommand } from './verify.js';
import { registerWaitCommand } from './wait.js';

/** One entry per command module; each adds its subcommand to the program. */
export type RegisterCommand = (program: Command, ctx: ProgramContext) => void;

export const COMMANDS: RegisterCommand[] = [
  registerCheckCommand,
  registerSnapshotCommand,
  registerStartCommand,
  registerReplayCommand,
  registerRelayCommand,
  registerStatusCommand,
  registerWaitCommand,
  registerPositionCommand,
  registerSkipCommand,
  registerVerifyCommand,
  registerDemoCommand,
];
