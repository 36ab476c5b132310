// What a relay test needs besides its servers: a nats-server of its own
// (nats.ts), a stream name, state files in a scratch folder, the CLI
// processes it starts (killed at the end), and a look at the stream as a
// NATS client sees it.
import { join } from 'node:path';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { spawnCli, tempDir } from './context.js';
import { startNats, type TestNats } from './nats.js';

type Child = ReturnType<typeof spawnCli>;

export interface RelayBed {
  nats: TestNats;
  stream: string;
  /** `nats://host:port/STREAM`, for --to and --from. */
  url: string;
  /** A state file of the scratch folder, by name. */
  state(name: string): string;
  /** Starts the CLI with these arguments (killed by close() if still running). */
  spawn(args: string[]): Child;
  /** Stops a process with SIGTERM; its exit code. */
  stop(child: Child): Promise<number | null>;
  /** Runs `action` on a JetStream manager of a connection of its own. */
  jetstream<T>(action: (jsm: JetStreamManager) => Promise<T>): Promise<T>;
  /** The stream's last sequence (0 when it is empty or missing). */
  lastSeq(): Promise<number>;
  close(): Promise<void>;
}

/** Stops a CLI process with SIGTERM (nothing if it has exited); its exit code. */
export async function stopCli(child: Child): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.kill('SIGTERM');
  await closed;
  return child.exitCode;
}

export async function openRelayBed(stream: string): Promise<RelayBed> {
  const nats = await startNats();
  const scratch = tempDir('binlog-sync-relay-bed-');
  const children: Child[] = [];
  const jetstream = async <T>(action: (jsm: JetStreamManager) => Promise<T>): Promise<T> => {
    const nc = await connect({ servers: nats.url.replace('nats://', '') });
    try {
      return await action(await jetstreamManager(nc));
    } finally {
      await nc.close();
    }
  };
  return {
    nats,
    stream,
    url: `${nats.url}/${stream}`,
    state: (name) => join(scratch.path, `${name}.sqlite`),
    spawn: (args) => {
      const child = spawnCli(args);
      children.push(child);
      return child;
    },
    stop: stopCli,
    jetstream,
    lastSeq: () => jetstream(async (jsm) => (await jsm.streams.info(stream).catch(() => null))?.state.last_seq ?? 0),
    close: async () => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await nats.stop();
      scratch.cleanup();
    },
  };
}
