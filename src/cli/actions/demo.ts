import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { runDemo, type DemoProgress } from '../../demo/demo.js';
import { createLogger } from '../../log/logger.js';
import type { ProgramContext } from '../context.js';
import { settingsFor } from '../command-helpers.js';

function line(p: DemoProgress): string {
  const lag = p.lagSeconds === null ? 'lag ?' : `lag ${p.lagSeconds.toFixed(1)} s`;
  return `${p.state.padEnd(8)} ${lag.padEnd(11)} applied ${p.rows} rows in ${p.transactions} transactions | wait_times: source ${p.waitTimesOnSource}, replica ${p.waitTimesOnReplica}`;
}

/** `demo`: everything on throwaway servers, with its steps and progress on stdout. */
export async function demoAction(opts: { seconds: string }, command: Command, ctx: ProgramContext): Promise<void> {
  if (!/^\d+$/.test(opts.seconds) || Number(opts.seconds) < 1) throw new UsageError(`--seconds must be a whole number above 0 (got '${opts.seconds}')`);
  const settings = settingsFor(command, ctx.io.env);
  // Quiet unless asked: the demo's own lines are what the person watches.
  const logger = createLogger({ level: command.optsWithGlobals().logLevel ? settings.logLevel : 'warn', ...(settings.logFormat ? { format: settings.logFormat } : {}) });
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const tty = ctx.io.stdoutIsTTY;
  try {
    const result = await runDemo({
      seconds: Number(opts.seconds),
      logger,
      signal: controller.signal,
      onStep: (text) => ctx.io.out(`${tty ? '\n' : ''}» ${text}\n`),
      onProgress: (p) => ctx.io.out(tty ? `\r${line(p)}   ` : `${line(p)}\n`),
      page: { host: settings.metricsHost, port: settings.metricsPort ?? 0 },
    });
    ctx.io.out(`${tty ? '\n' : ''}\nfinal: ${line(result.final)}\n`);
    ctx.io.out(result.identical ? `verify: identical (${result.tables} tables)\n` : 'verify: DIFFERENT\n');
    if (!result.identical) ctx.result.exitCode = 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
