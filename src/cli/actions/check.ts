import type { Command } from 'commander';
import { resolveEndpoint } from '../../config/endpoints.js';
import type { Settings } from '../../config/settings.js';
import type { Endpoint } from '../../config/connection-url.js';
import { runChecks } from '../../check/gather.js';
import type { CheckItem } from '../../check/checks.js';
import { StateStore } from '../../state/state-store.js';
import { loadMasking } from '../../mask/key.js';
import type { ProgramContext } from '../context.js';
import { commandEnv, defaultServerId, printJson } from '../command-helpers.js';

function endpointIfGiven(settings: Settings, role: 'source' | 'replica'): Endpoint | undefined {
  return (role === 'source' ? settings.source : settings.replica) ? resolveEndpoint(settings, role) : undefined;
}

/** The binlog file of the stored position, if there is a state file with one. */
function storedFile(path: string): string | null {
  try {
    const state = StateStore.open(path, { readonly: true });
    try {
      return state.getPosition()?.file ?? null;
    } finally {
      state.close();
    }
  } catch {
    return null;
  }
}

function printText(items: CheckItem[], out: (t: string) => void): void {
  const width = Math.max(...items.map((i) => i.name.length));
  for (const item of items) {
    out(`${item.status.padEnd(4)}  ${item.name.padEnd(width)}  ${item.detail}\n`);
    if (item.fix) out(`      ${' '.repeat(width)}  fix: ${item.fix}\n`);
  }
  const failed = items.filter((i) => i.status === 'fail').length;
  const warned = items.filter((i) => i.status === 'warn').length;
  out(failed ? `\n${failed} check(s) failed, ${warned} warning(s)\n` : `\nready: nothing failed${warned ? `, ${warned} warning(s)` : ''}\n`);
}

/** `check`: the preflight items, as text or JSON; exit 1 when one fails. */
export async function checkAction(opts: { json?: boolean }, command: Command, ctx: ProgramContext): Promise<void> {
  const { settings } = commandEnv(command, ctx.io);
  // A rule that does not parse or a key that cannot be read is a usage error, as for start and snapshot.
  const mask = loadMasking(settings);
  const items = await runChecks({
    source: endpointIfGiven(settings, 'source'),
    replica: endpointIfGiven(settings, 'replica'),
    serverId: settings.serverId ?? defaultServerId(settings.state),
    storedFile: storedFile(settings.state),
    // The selection is checked when one is given (check also serves before --databases is settled).
    ...(settings.databases.length > 0 ? { filter: settings } : {}),
    definer: settings.definer,
    mask,
  });
  const ok = items.every((i) => i.status !== 'fail');
  if (opts.json) printJson(ctx.io, { ok, items });
  else printText(items, ctx.io.out);
  ctx.result.exitCode = ok ? 0 : 1;
}
