import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { resolveEndpoint } from '../../config/endpoints.js';
import { waitForReplica } from '../../health/wait.js';
import { runVerify, type TableVerdict, type VerifyReport } from '../../verify/verify.js';
import { loadMasking } from '../../mask/key.js';
import type { ProgramContext } from '../context.js';
import { commandEnv, printJson, requireDatabases } from '../command-helpers.js';

const WHERE_ONLY: Partial<Record<TableVerdict['status'], string>> = { missing: ': only on the source', extra: ': only on the replica' };

function printText(report: VerifyReport, out: (t: string) => void): void {
  for (const t of report.tables) {
    const ranges = t.ranges?.length ? `: keys ${t.ranges.map((r) => (JSON.stringify(r.from) === JSON.stringify(r.to) ? JSON.stringify(r.from) : `${JSON.stringify(r.from)}..${JSON.stringify(r.to)}`)).join(', ')}` : '';
    const definition = t.definition ? `${ranges ? ';' : ':'} definition differs` : '';
    out(`${t.status.padEnd(9)}  ${t.table}${t.rows !== undefined ? ` (${t.rows} rows)` : ''}${ranges}${definition}${WHERE_ONLY[t.status] ?? ''}\n`);
    for (const line of t.definition?.source ?? []) out(`             source:  ${line}\n`);
    for (const line of t.definition?.replica ?? []) out(`             replica: ${line}\n`);
  }
  for (const o of report.objects) {
    if (o.status !== 'identical') out(`${o.status.padEnd(9)}  ${o.type.toLowerCase()} ${o.object}${o.status === 'missing' ? ' (not on the replica)' : ''}\n`);
  }
  const bad = report.tables.filter((t) => t.status !== 'identical').length;
  const badObjects = report.objects.filter((o) => o.status !== 'identical').length;
  const objects = report.objects.length > 0 ? `, ${report.objects.length} views, routines and events` : '';
  if (report.masked?.length) out(`masked     ${report.masked.length} columns compared through their masks: ${report.masked.join(', ')}\n`);
  out(
    report.identical
      ? `\nidentical: ${report.tables.length} tables${objects}\n`
      : `\n${bad} of ${report.tables.length} tables differ${badObjects > 0 ? `; ${badObjects} of ${report.objects.length} views, routines and events differ` : ''}\n`,
  );
}

/** `verify`: compares source and replica; exit 1 when they differ. */
export async function verifyAction(opts: { json?: boolean }, command: Command, ctx: ProgramContext): Promise<void> {
  const { settings, logger } = commandEnv(command, ctx.io);
  requireDatabases(settings, 'verify');
  const source = resolveEndpoint(settings, 'source');
  const replica = resolveEndpoint(settings, 'replica');
  const mask = loadMasking(settings);
  const report = await runVerify({
    source,
    replica,
    filter: settings,
    mask,
    logger,
    ...(existsSync(settings.state)
      ? { waitForReplica: async () => void (await waitForReplica({ source, state: settings.state, timeoutMs: 30_000 })) }
      : {}),
  });
  if (opts.json) printJson(ctx.io, report);
  else printText(report, ctx.io.out);
  ctx.result.exitCode = report.identical ? 0 : 1;
}
