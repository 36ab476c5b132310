import type { Command } from 'commander';
import type { ProgramContext } from '../context.js';
import { lazyAction } from '../lazy-action.js';

export function registerDemoCommand(program: Command, ctx: ProgramContext): void {
  program
    .command('demo')
    .description('try it all on throwaway servers: snapshot, replication of a live sample load, status and verify; removes everything on exit')
    .option('--seconds <n>', 'how long the live part runs', '20')
    .addHelpText('after', '\nUses the MariaDB server binaries (mariadbd) on this machine, or else Docker (mariadb:lts).\n\nExample:\n  npx binlog-sync demo --seconds 10')
    .action(lazyAction(ctx, async () => (await import('../actions/demo.js')).demoAction));
}
