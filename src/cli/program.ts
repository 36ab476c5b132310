import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { ProgramContext } from './context.js';
import { addSettingOptions, COMMON_SETTINGS } from './options.js';
import { COMMANDS } from './commands/index.js';

export type { CommandResult, ProgramContext } from './context.js';

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * The commander program. It never exits the process itself (exitOverride):
 * `main` maps every outcome to the contract's exit codes.
 */
export function buildProgram(ctx: ProgramContext): Command {
  const program = new Command('binlog-sync');
  program
    .description(
      'Keep a local MySQL/MariaDB replica fresh from the production server\'s ROW binlog, ' +
        'without the server\'s replica threads.',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .addOption(new Option('--config <file>', 'JSON or YAML config file (env BINLOG_SYNC_CONFIG)'))
    .exitOverride()
    .showSuggestionAfterError()
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .configureOutput({
      writeOut: (text) => ctx.io.out(text),
      writeErr: (text) => ctx.io.err(text),
      outputError: (text, write) => write(text.replace(/^error: /, 'binlog-sync: ')),
    });
  addSettingOptions(program, COMMON_SETTINGS);
  program.addHelpText(
    'after',
    [
      '',
      'Settings come from flags, then BINLOG_SYNC_* environment variables, then --config, then defaults.',
      '',
      'Examples:',
      '  binlog-sync position set --current --source mysql://repl_user@prod:3306 --replica mysql://binlog_sync@127.0.0.1',
      '  binlog-sync start --source mysql://repl_user@prod:3306 --replica mysql://binlog_sync@127.0.0.1 --databases themepark_tracker',
      '  binlog-sync <command> --help',
    ].join('\n'),
  );
  for (const register of COMMANDS) register(program, ctx);
  return program;
}
