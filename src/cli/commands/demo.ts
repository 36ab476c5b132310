import type { Command } from 'commander';
import type { ProgramContext } from '../context.js';
import { lazyAction } from '../lazy-action.js';
import { addSettingOptions } from '../options.js';

export function registerDemoCommand(program: Command, ctx: ProgramContext): void {
  const demo = program
    .command('demo')
    .description('try it all on throwaway servers: snapshot, replication of a live sample load, status and verify; removes everything on exit')
    .option('--seconds <n>', 'how long the live part runs', '20')
    .addHelpText(
      'after',
      '\nUses the MariaDB server binaries (mariadbd) on this machine, or else Docker (mariadb:lts).\n' +
        'Prints the address of its live status page (a free port on 127.0.0.1 unless --metrics-port is given), up while it runs.\n\n' +
        'Example:\n  npx binlog-sync demo --seconds 10',
    );
  addSettingOptions(demo, ['metrics-port', 'metrics-host']);
  demo.action(lazyAction(ctx, async () => (await import('../actions/demo.js')).demoAction));
}
