// The only module that imports the NATS client: a connection to the relay's
// JetStream stream and the few operations the relay and its consumers need
// (make or check the stream, publish, read the last or any message, read in
// order from a sequence). NATS errors become ours here: a lost server is
// retryable, refused credentials are not, and no message carries a secret.
import { readFileSync } from 'node:fs';
import {
  AuthorizationError,
  connect,
  createInbox,
  credsAuthenticator,
  type ConnectionOptions,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
} from '@nats-io/transport-node';
import {
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type ConsumerMessages,
  type JsMsg,
  type StreamInfo,
} from '@nats-io/jetstream';
import { AuthenticationError, ConfigError, NatsConnectionError, RelayStreamError, describeError } from '../errors.js';
import { describeRelay, type RelayAddress } from './relay-url.js';
import { parsePlace, type MessagePlace } from './message.js';
import { HeaderBlock, readHeaderBlock } from './header-block.js';

/** How to reach the stream: its address and credentials (secrets registered by whoever read them). */
export interface NatsOptions {
  address: RelayAddress;
  password?: string;
  token?: string;
  /** A NATS credentials file (JWT and NKey seed), as `nsc` writes it. */
  credsFile?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  /** The connection's name, as the server's monitoring shows it. */
  name: string;
}

export interface Retention {
  /** Messages older than this are removed (seconds); none when absent. */
  maxAgeSeconds?: number;
  /** The stream keeps at most this many bytes, the oldest removed first. */
  maxBytes?: number;
}

export interface StoredMessage {
  seq: number;
  place: MessagePlace;
  data: Uint8Array;
}

/** A read in order from a sequence: each message with how many are stored after it. */
export interface MessageFeed extends AsyncIterable<StoredMessage & { pending: number }> {
  stop(): void;
}

/** An acknowledgement not come within this long fails the publish (the connection is taken as broken). */
const ACK_TIMEOUT_MS = 30_000;

interface PendingAck {
  id: string;
  at: number;
  resolve: (ack: { seq: number; duplicate: boolean }) => void;
  reject: (error: Error) => void;
}

/** JetStream's default window for dropping a re-published message id. */
const DUPLICATE_WINDOW_S = 120;
const NOT_FOUND = 10037;
const STREAM_NOT_FOUND = 10059;

export class NatsStream {
  /** Publishes waiting for their acknowledgement, by the token their reply subject ends with (see publish). */
  private readonly acks = new Map<string, PendingAck>();
  private inbox: string | undefined;
  private nextToken = 0;
  private sweeper: NodeJS.Timeout | undefined;
  /** Set once the connection dropped while publishing: every later publish fails with it (see watchDisconnects). */
  private broken: Error | undefined;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly address: RelayAddress,
  ) {}

  static async open(options: NatsOptions): Promise<NatsStream> {
    const { address } = options;
    const connection: ConnectionOptions = {
      servers: address.servers,
      name: options.name,
      // Reconnect forever (the relay and consumers outlive a NATS restart), with the client's own backoff.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
    };
    if (address.user !== undefined) connection.user = address.user;
    if (options.password !== undefined) connection.pass = options.password;
    if (options.token !== undefined) connection.token = options.token;
    if (options.credsFile) connection.authenticator = credsAuthenticator(readCreds(options.credsFile));
    if (address.tls || options.tls) connection.tls = { ...(options.tls ?? {}) };
    let nc: NatsConnection;
    try {
      nc = await connect(connection);
    } catch (error) {
      throw natsError(error, address, 'connect to');
    }
    try {
      return new NatsStream(nc, jetstream(nc), await jetstreamManager(nc), address);
    } catch (error) {
      await nc.close().catch(() => undefined);
      throw natsError(error, address, 'use JetStream on');
    }
  }

  /** The largest message the server takes. */
  get maxPayload(): number {
    return this.nc.info?.max_payload ?? 1024 * 1024;
  }

  /** Makes the stream when it is missing (the relay); checks that an existing one is for our subject. */
  async ensure(retention: Retention): Promise<StreamInfo> {
    const existing = await this.info();
    if (existing) return existing;
    const window = Math.min(DUPLICATE_WINDOW_S, retention.maxAgeSeconds ?? DUPLICATE_WINDOW_S);
    try {
      return await this.jsm.streams.add({
        name: this.address.stream,
        subjects: [this.address.subject],
        ...(retention.maxAgeSeconds ? { max_age: retention.maxAgeSeconds * 1e9 } : {}),
        ...(retention.maxBytes ? { max_bytes: retention.maxBytes } : {}),
        duplicate_window: window * 1e9,
      });
    } catch (error) {
      throw natsError(error, this.address, 'create the stream on');
    }
  }

  /** The stream as it is (consumers); refused when missing. */
  async require(): Promise<StreamInfo> {
    const info = await this.info();
    if (!info) {
      throw new RelayStreamError(`${describeRelay(this.address)} has no stream ${this.address.stream}: start \`binlog-sync relay --to ${describeRelay(this.address)}\` first`);
    }
    return info;
  }

  /**
   * When the stream was made (null when it is missing): a stream deleted
   * and made again under the same name has another (consumers).
   */
  async createdAt(): Promise<string | null> {
    return (await this.info())?.created ?? null;
  }

  private async info(): Promise<StreamInfo | null> {
    let info: StreamInfo;
    try {
      info = await this.jsm.streams.info(this.address.stream);
    } catch (error) {
      if (isApiError(error, STREAM_NOT_FOUND) || (error as Error).name === 'StreamNotFoundError') return null;
      throw natsError(error, this.address, 'read the stream on');
    }
    if (!info.config.subjects?.includes(this.address.subject)) {
      throw new RelayStreamError(
        `the stream ${this.address.stream} on ${describeRelay(this.address)} is not a binlog-sync relay stream (its subjects are ${(info.config.subjects ?? []).join(', ') || 'none'}, not ${this.address.subject}); name another stream`,
      );
    }
    return info;
  }

  /** The stream's last message, or null when it is empty. */
  async last(): Promise<StoredMessage | null> {
    return this.read({ last_by_subj: this.address.subject });
  }

  /** The message at `seq`, or null when there is none (never stored, or removed). */
  async get(seq: number): Promise<StoredMessage | null> {
    return this.read({ seq });
  }

  private async read(request: { seq: number } | { last_by_subj: string }): Promise<StoredMessage | null> {
    try {
      const m = await this.jsm.streams.getMessage(this.address.stream, request);
      if (!m) return null;
      return { seq: m.seq, place: parsePlace((name) => m.header?.get(name) || undefined, m.seq), data: m.data };
    } catch (error) {
      if (isApiError(error, NOT_FOUND) || /no message found/i.test((error as Error).message)) return null;
      if (error instanceof RelayStreamError) throw error;
      throw natsError(error, this.address, 'read a message from');
    }
  }

  /**
   * Publishes one message; resolves with its sequence once stored (or
   * dropped as a duplicate of `id`). `after` is the id the stream's last
   * message must have: a message lost on the way fails every one after it,
   * so the stream never has a gap. (The JetStream client's publish makes
   * two error objects and a request per message, a third of the relay's
   * CPU: the acknowledgements come to one subscription of ours instead,
   * with the headers JetStream's publish would set.)
   */
  publish(data: Uint8Array, headers: Record<string, string>, id: string, after: string | undefined): Promise<{ seq: number; duplicate: boolean }> {
    const inbox = this.ackInbox();
    const entries: Array<[string, string]> = Object.entries(headers);
    entries.push(['Nats-Msg-Id', id]);
    if (after !== undefined) entries.push(['Nats-Expected-Last-Msg-Id', after]);
    // (The client's publish asks its headers for their bytes only: see header-block.ts.)
    const h = new HeaderBlock(entries) as unknown as MsgHdrs;
    const token = String(++this.nextToken);
    return new Promise((resolve, reject) => {
      if (this.broken) return reject(this.broken);
      this.acks.set(token, { id, at: Date.now(), resolve, reject });
      try {
        this.nc.publish(this.address.subject, data, { headers: h, reply: `${inbox}.${token}` });
      } catch (error) {
        this.acks.delete(token);
        reject(natsError(error, this.address, 'publish to'));
      }
    });
  }

  /** The subscription acknowledgements come to, made on the first publish; and the check for those that never come. */
  private ackInbox(): string {
    if (this.inbox) return this.inbox;
    const inbox = createInbox();
    this.inbox = inbox;
    this.nc.subscribe(`${inbox}.*`, { callback: (_error, msg) => this.acknowledged(msg.subject.slice(inbox.length + 1), msg) });
    this.sweeper = setInterval(() => {
      const oldest = this.acks.values().next().value;
      if (oldest && Date.now() - oldest.at > ACK_TIMEOUT_MS) {
        this.failAcks(new NatsConnectionError(`NATS ${describeRelay(this.address)} did not acknowledge message ${oldest.id} within ${ACK_TIMEOUT_MS / 1000} s`));
      }
    }, 1000);
    this.sweeper.unref();
    void this.nc.closed().then(() => this.failAcks(new NatsConnectionError(`the connection to NATS ${describeRelay(this.address)} closed`)));
    void this.watchDisconnects();
    return inbox;
  }

  /**
   * A dropped connection fails the publishing at once, retryably. What was
   * in flight may be lost with it, and the client would send what is
   * published while it reconnects expecting those lost messages: refused
   * by the stream as if another relay published. The relay's next session
   * continues after the stream's last message instead.
   */
  private async watchDisconnects(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type !== 'disconnect') continue;
      this.broken = new NatsConnectionError(`the connection to NATS ${describeRelay(this.address)} was lost while publishing`);
      this.failAcks(this.broken);
      return;
    }
  }

  private acknowledged(token: string, msg: Msg): void {
    const pending = this.acks.get(token);
    if (!pending) return;
    this.acks.delete(token);
    if (msg.data.length === 0) {
      // (A status message: no responders, nothing listens on the subject. So it is while a server shuts down, or
      // starts, without JetStream yet; or when the stream was deleted, which the relay's next session finds out.)
      pending.reject(
        new NatsConnectionError(
          `no JetStream stream took message ${pending.id} on ${this.address.subject} (NATS status ${msg.headers?.code ?? 'unknown'}): is NATS restarting, or was the stream ${this.address.stream} deleted?`,
        ),
      );
      return;
    }
    let ack: { seq?: number; duplicate?: boolean; error?: { code?: number; err_code?: number; description?: string } };
    try {
      ack = msg.json();
    } catch (error) {
      pending.reject(new RelayStreamError(`NATS ${describeRelay(this.address)} answered message ${pending.id} with something that is not a JetStream acknowledgement`, { cause: error }));
      return;
    }
    if (ack.error || typeof ack.seq !== 'number') {
      pending.reject(
        new RelayStreamError(`${describeRelay(this.address)} refused message ${pending.id}: ${ack.error?.description ?? 'no sequence in its acknowledgement'} (is another relay publishing to the stream?)`),
      );
      return;
    }
    pending.resolve({ seq: ack.seq, duplicate: ack.duplicate === true });
  }

  private failAcks(error: Error): void {
    const pending = [...this.acks.values()];
    this.acks.clear();
    for (const p of pending) p.reject(error);
  }

  /** Reads the stream in order from `seq` (an ephemeral ordered consumer: nothing is left on the server). */
  async feed(seq: number): Promise<MessageFeed> {
    let messages: ConsumerMessages;
    try {
      const consumer = await this.js.consumers.get(this.address.stream, { opt_start_seq: Math.max(1, seq), filter_subjects: this.address.subject });
      // (Room for several of the largest messages: a pull smaller than a message would never deliver it.
      // The client asks for 100 messages at most with a byte limit, and by default asks again once
      // 25 have come, a request the server must answer for every 25 transactions: 90 instead.)
      messages = await consumer.consume({ max_bytes: Math.max(8 * 1024 * 1024, 4 * this.maxPayload), threshold_messages: 10 });
    } catch (error) {
      throw natsError(error, this.address, 'read from');
    }
    return {
      stop: () => void messages.close().catch(() => undefined),
      [Symbol.asyncIterator]: async function* (this: void) {
        for await (const m of messages) {
          yield { seq: m.seq, place: parsePlace(headersOf(m), m.seq), data: m.data, pending: m.info.pending };
        }
      },
    };
  }

  /** Resolves when the connection closes for good (with the error, if any). */
  closed(): Promise<Error | undefined> {
    return this.nc.closed().then((error) => (error ? natsError(error, this.address, 'stay connected to') : undefined));
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.nc.close().catch(() => undefined);
  }
}

/**
 * A consumed message's headers by name, read from its header bytes where
 * the client (3.x) keeps them: the message's bytes, headers first, and
 * their length (see readHeaderBlock for why). Through the client's own
 * headers otherwise.
 */
function headersOf(m: JsMsg): (name: string) => string | undefined {
  const kept = (m as unknown as { msg?: { _rdata?: unknown; _msg?: { hdr?: unknown } } }).msg;
  const bytes = kept?._rdata;
  const length = kept?._msg?.hdr;
  if (bytes instanceof Uint8Array && typeof length === 'number' && length > 0 && length <= bytes.length) return readHeaderBlock(bytes.subarray(0, length));
  return (name) => m.headers?.get(name) || undefined;
}

function readCreds(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(`--nats-creds ${path} cannot be read`, { cause: error });
  }
}

function isApiError(error: unknown, code?: number): boolean {
  return error instanceof JetStreamApiError && (code === undefined || error.code === code);
}

/** A NATS failure as one of ours: credentials refused (not retried), anything else retried. */
function natsError(error: unknown, address: RelayAddress, doing: string): Error {
  if (error instanceof RelayStreamError || error instanceof ConfigError) return error;
  const where = describeRelay(address);
  const message = describeError(error);
  if (error instanceof AuthorizationError || /authori[sz]ation|authentication/i.test(message)) {
    return new AuthenticationError(`NATS ${where} refused the credentials (${message}); check the user and password, token or --nats-creds file`, { cause: error });
  }
  if (/jetstream not enabled|JetStream not enabled/i.test(message)) {
    return new RelayStreamError(`NATS ${where} has no JetStream; start nats-server with -js (or jetstream {} in its configuration)`, { cause: error });
  }
  return new NatsConnectionError(`could not ${doing} NATS ${where}: ${message}`, { cause: error });
}
