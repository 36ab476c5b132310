import type { Command } from 'commander';
import { resolveEndpoint } from '../../config/endpoints.js';
import { ConfigError, StateLockedError, UsageError } from '../../errors.js';
import { formatPosition, type AppliedPosition, type BinlogPosition } from '../../position.js';
import { mirrorIntoState, writeStreamPosition } from '../../apply/position-writer.js';
import { resolveNats } from '../../relay/relay-settings.js';
import type { NatsOptions } from '../../relay/nats-stream.js';
import { connectSource, currentSourcePosition, gtidAtPosition, readSourceInfo } from '../../source/source-server.js';
import { StateStore } from '../../state/state-store.js';
import type { ProgramContext } from '../context.js';
import { commandEnv, printJson } from '../command-helpers.js';

function showPosition(p: AppliedPosition | null): Record<string, unknown> | null {
  return p ? { file: p.file, position: p.position, gtid: p.gtid, appliedAt: p.appliedAt, streamSeq: p.streamSeq ?? null } : null;
}

/** ` (stream message N)`, for a position of a relay's stream; '' otherwise. */
export function streamSeqNote(p: Pick<AppliedPosition, 'streamSeq'>): string {
  return p.streamSeq != null ? ` (stream message ${p.streamSeq})` : '';
}

/** `position show`: the stored position. */
export function positionShowAction(opts: { json?: boolean }, command: Command, ctx: ProgramContext): void {
  const { settings } = commandEnv(command, ctx.io);
  const state = StateStore.open(settings.state, { readonly: true });
  try {
    const p = state.getPosition();
    if (opts.json) printJson(ctx.io, showPosition(p));
    else ctx.io.out(p ? `${formatPosition(p)}${streamSeqNote(p)} (applied ${p.appliedAt})\n` : 'no position stored\n');
  } finally {
    state.close();
  }
}

/** `position set`: where `start` continues, on the replica and in the state file. */
export async function positionSetAction(
  opts: { file?: string; pos?: string; gtid?: string; current?: boolean },
  command: Command,
  ctx: ProgramContext,
): Promise<void> {
  const modes = [opts.file !== undefined || opts.pos !== undefined, opts.gtid !== undefined, Boolean(opts.current)].filter(Boolean);
  if (modes.length !== 1) throw new UsageError('position set needs exactly one of --file F --pos P, --gtid G or --current');
  if ((opts.file === undefined) !== (opts.pos === undefined)) throw new UsageError('--file and --pos go together');
  if (opts.pos !== undefined && !/^\d+$/.test(opts.pos)) throw new UsageError(`--pos must be a whole number (got '${opts.pos}')`);
  if (opts.gtid !== undefined && !/^\s*[\w:,\s-]+\s*$/.test(opts.gtid)) throw new UsageError(`--gtid is not a GTID position: '${opts.gtid}'`);

  const { settings } = commandEnv(command, ctx.io);
  // Without --replica, the state file alone: a relay's (it has no replica; its stream is its checkpoint).
  const replica = settings.replica ? resolveEndpoint(settings, 'replica') : undefined;
  // --from: --current is the relay stream's last message (where a replica fed by it is caught up).
  const from = settings.from && opts.current ? resolveNats(settings, 'from', 'binlog-sync position set') : undefined;
  const sourceEndpoint = !from && (opts.current || settings.source) ? resolveEndpoint(settings, 'source') : undefined;
  if (opts.current && !sourceEndpoint && !from) throw new ConfigError('--current needs --source (or --from, for the last message of a relay\'s stream)');

  const state = StateStore.open(settings.state, { create: true });
  try {
    const runner = state.activeRunner();
    if (runner) {
      throw new StateLockedError(
        `a \`binlog-sync start\` (pid ${runner.pid} on ${runner.hostname}) is running on ${settings.state}; stop it before setting the position`,
      );
    }
    let streamSeq: number | null = null;
    let target: BinlogPosition = {
      file: opts.file ?? null,
      position: opts.pos !== undefined ? Number(opts.pos) : null,
      gtid: opts.gtid?.replace(/\s+/g, '') ?? null,
    };
    if (from) ({ position: target, seq: streamSeq } = await lastStreamPosition(from));
    else if (sourceEndpoint) {
      const conn = await connectSource(sourceEndpoint);
      try {
        const info = await readSourceInfo(conn);
        if (opts.current) target = await currentSourcePosition(conn, info);
        else if (target.file && target.position !== null) {
          target.gtid = await gtidAtPosition(conn, info, target.file, target.position);
        }
      } finally {
        await conn.end().catch(() => undefined);
      }
    }
    const history = { event: 'set', detail: opts.current ? (from ? 'current (stream)' : 'current') : null } as const;
    if (replica) await writeStreamPosition({ replica, state, position: target, sourceTimestamp: null, streamSeq, history });
    else mirrorIntoState(state, { position: target, sourceTimestamp: null, streamSeq, history });
    ctx.io.out(`position set to ${formatPosition(target)}${replica ? '' : ' (in the state file only: no --replica given)'}\n`);
  } finally {
    state.close();
  }
}

/**
 * Where the last message of a relay's stream ends, and its sequence (null
 * when it is a part before the last of its transaction: the relay is still
 * publishing the rest).
 */
export async function lastStreamPosition(from: NatsOptions): Promise<{ position: BinlogPosition; seq: number | null }> {
  const { NatsStream } = await import('../../relay/nats-stream.js');
  const { RelayStreamError } = await import('../../errors.js');
  const nats = await NatsStream.open(from);
  try {
    await nats.require();
    const last = await nats.last();
    if (!last) throw new RelayStreamError(`the stream ${from.address.stream} is empty: nothing to set --current to yet (a replica started without a position waits for its first message)`);
    return { position: { file: last.place.file, position: last.place.position, gtid: null }, seq: last.place.part === last.place.parts ? last.seq : null };
  } finally {
    await nats.close();
  }
}

/** `position history`: past positions, newest first. */
export function positionHistoryAction(opts: { limit: string; json?: boolean }, command: Command, ctx: ProgramContext): void {
  if (!/^\d+$/.test(opts.limit) || Number(opts.limit) < 1) throw new UsageError(`--limit must be a whole number above 0 (got '${opts.limit}')`);
  const { settings } = commandEnv(command, ctx.io);
  const state = StateStore.open(settings.state, { readonly: true });
  try {
    const entries = state.history(Number(opts.limit));
    if (opts.json) return printJson(ctx.io, entries);
    for (const e of entries) {
      const at = formatPosition({ file: e.file, position: e.position, gtid: e.gtid });
      ctx.io.out(`${e.at}  ${e.event.padEnd(9)} ${at}${e.detail ? `  ${e.detail}` : ''}\n`);
    }
  } finally {
    state.close();
  }
}
