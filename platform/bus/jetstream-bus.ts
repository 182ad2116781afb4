/**
 * The bus over NATS JetStream, for the distributed mode. Streams and durable
 * pull consumers are created idempotently; `Nats-Msg-Id` de-duplicates
 * publishes within the stream's duplicate window; the server redelivers what
 * is not acked within `ack_wait`, up to `max_deliver` times, and its
 * max-deliveries advisory hands the message to `onDeadLetter`. Every name
 * comes from the deployment (deployment-names.ts); a publish is retried only
 * while the server is unreachable, never when NATS refused it.
 * Works with nats-server 2.9 (no 2.10+ features).
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type ConsumerInfo,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { NoetlError } from '../../common/errors.ts';
import { encodeMessage, HEADER_ALLOWANCE_BYTES, NATS_DEFAULT_MAX_PAYLOAD } from './bus.ts';
import type { Bus, ConsumeOptions, Delivery, DurableOptions, Subscription } from './bus.ts';
import { busNames, type BusNames, type BusRole } from './deployment-names.ts';
import { connectionOptions, natsRefusal, splitNatsUrl, type NatsCredentials } from './nats-connection.ts';

const NS = 1_000_000;
const DUPLICATE_WINDOW_MS = 120_000;

export interface JetStreamBusOptions {
  /** A NATS URL; credentials in it (`user:password@`, `token@`) are used and never printed. */
  url: string;
  /** Connection name shown by the server (e.g. `noetl-worker-gpu`). */
  name?: string;
  /** How long a publish keeps retrying while the server is unreachable. */
  publishTimeoutMs?: number;
  /** How long connecting may take (nats.js's default, 20 s, when unset). */
  connectTimeoutMs?: number;
  /** The deployment whose streams, subjects and durables this bus uses (default `noetl`). */
  deployment?: string;
  /** Which reply inbox the connection uses (default `server`): NATS permissions grant each role its own. */
  role?: BusRole;
  /** Credentials and TLS; they take the place of any in the URL. */
  credentials?: NatsCredentials;
  /** How long `ping` waits for the server (default 1.5 s). */
  pingTimeoutMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class JetStreamBus implements Bus {
  readonly names: BusNames;
  private closed = false;
  private readonly subscriptions = new Set<Subscription>();
  /** Subjects NATS refused a publish to, with when: a core publish learns of its refusal only this way. */
  private readonly refusedPublishes = new Map<string, number>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly options: JetStreamBusOptions,
    /** The URL without credentials, for messages. */
    private readonly where: string,
  ) {
    this.names = busNames(options.deployment);
    void this.watchRefusals().catch(() => undefined);
  }

  /** Connects, checks JetStream is enabled and creates the deployment's streams if missing. */
  static async connect(options: JetStreamBusOptions): Promise<JetStreamBus> {
    const names = busNames(options.deployment);
    const { url, credentials } = splitNatsUrl(options.url);
    const inbox = names.inbox(options.role ?? 'server');
    const settings = {
      ...connectionOptions(url, options.name ?? 'noetl', inbox, options.credentials ?? credentials),
      ...(options.connectTimeoutMs !== undefined ? { timeout: options.connectTimeoutMs } : {}),
    };
    let nc: NatsConnection;
    try {
      nc = await connect(settings);
    } catch (e) {
      const said = (e as Error).message;
      if (natsRefusal(e) === 'credentials') {
        throw new NoetlError('E_BUS_FORBIDDEN', `NATS at ${url} refused the credentials: ${said}`, { cause: e });
      }
      throw new NoetlError('E_BUS_UNAVAILABLE', `cannot connect to NATS at ${url}: ${said}`, { cause: e });
    }
    try {
      const jsm = await jetstreamManager(nc, { timeout: 5000 });
      await jsm.getAccountInfo();
      await ensureStreams(jsm, names);
      return new JetStreamBus(nc, jetstream(nc), jsm, options, url);
    } catch (e) {
      await nc.close();
      if (e instanceof NoetlError) throw e;
      const msg = (e as Error).message;
      if (natsRefusal(e) === 'permission') {
        const hint = 'a user that may not create streams needs `noetl server` to have created them first';
        const refused = `NATS at ${url} refused the streams of deployment "${names.deployment}" to this user (${msg})`;
        throw new NoetlError('E_BUS_FORBIDDEN', `${refused}; ${hint}`, { cause: e });
      }
      const hint = /not enabled|503|no responders/i.test(msg) ? ' (start nats-server with -js to enable JetStream)' : '';
      throw new NoetlError('E_BUS_UNAVAILABLE', `NATS at ${url} has no usable JetStream: ${msg}${hint}`, { cause: e });
    }
  }

  /** The server's max_payload less room for headers (it may change on reconnecting to another server). */
  get maxMessageBytes(): number {
    return (this.nc.info?.max_payload ?? NATS_DEFAULT_MAX_PAYLOAD) - HEADER_ALLOWANCE_BYTES;
  }

  async publish(subject: string, data: unknown, options: { msgId: string }): Promise<void> {
    if (this.closed) throw new NoetlError('E_BUS_CLOSED', `cannot publish to ${subject}: the bus is closed`);
    const payload = encodeMessage(subject, data, this.maxMessageBytes);
    const deadline = Date.now() + (this.options.publishTimeoutMs ?? 60_000);
    for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
      if (this.closed) throw new NoetlError('E_BUS_CLOSED', `cannot publish to ${subject}: the bus is closed`);
      try {
        await this.js.publish(subject, payload, { msgID: options.msgId, timeout: 5000 });
        return;
      } catch (e) {
        const refused = this.refusal(subject, e);
        if (refused) throw refused;
        // Unreachable server: retry with the same message id, so a publish that did land is not doubled.
        if (Date.now() + wait > deadline) {
          throw new NoetlError('E_BUS_UNAVAILABLE', `cannot publish to ${subject}: ${(e as Error).message}`, { cause: e });
        }
        await sleep(wait);
      }
    }
  }

  consume<T>(options: ConsumeOptions, handler: (m: Delivery<T>) => Promise<void>): Subscription {
    if (this.closed) throw new NoetlError('E_BUS_CLOSED', 'cannot consume: the bus is closed');
    const stream = this.streamOf(options.filter);
    let stopped = false;
    const active = new Set<Promise<void>>();
    const ready = this.ensureConsumer(stream, options);
    // Seen as handled here: a caller that never awaits `ready` must not crash the process.
    ready.catch(() => undefined);
    const advisory = options.onDeadLetter ? this.watchDeadLetters(stream, options) : undefined;
    // Long handlers: one pull request at a time, for as many messages as there are
    // free handler slots when it is made, never more (a fetched message waiting for
    // a slot would burn its ack deadline here while another worker sits idle). Each
    // message starts on arrival; a backlog comes in batches, not one round trip each.
    // One request at a time: nats-server 2.9 serves many concurrent pulls far slower.
    const slots = async (): Promise<void> => {
      await ready;
      const consumer = await this.js.consumers.get(stream, options.durable);
      while (!stopped && !this.closed) {
        while (active.size >= options.concurrency) await Promise.race(active);
        try {
          const batch = await consumer.fetch({ max_messages: options.concurrency - active.size, expires: 1000 });
          stopStream = () => batch.stop();
          for await (const m of batch) {
            if (stopped) {
              m.nak();
              continue;
            }
            const run = deliver(m, handler).finally(() => active.delete(run));
            active.add(run);
          }
        } catch {
          if (!stopped && !this.closed) await sleep(250);
        }
      }
    };
    // Quick handlers: one consume() stream with prefetch, gated to `concurrency` at once.
    const stream_ = async (): Promise<void> => {
      await ready;
      const consumer = await this.js.consumers.get(stream, options.durable);
      while (!stopped && !this.closed) {
        try {
          const iter = await consumer.consume({ max_messages: options.concurrency + (options.prefetch ?? 0) });
          stopStream = () => iter.stop();
          for await (const m of iter) {
            if (stopped) {
              m.nak();
              continue;
            }
            while (active.size >= options.concurrency) await Promise.race(active);
            const run = deliver(m, handler).finally(() => active.delete(run));
            active.add(run);
          }
        } catch {
          if (!stopped && !this.closed) await sleep(250);
        }
      }
    };
    let stopStream = (): void => undefined;
    const loops = [options.prefetch ? stream_() : slots()].map((l) =>
      l.catch(() => {
        // the consumer could not be created: stop quietly, the caller sees no messages
      }),
    );
    const sub: Subscription = {
      ready,
      stop: async () => {
        stopped = true;
        stopStream();
        advisory?.unsubscribe();
        await Promise.allSettled([...active]);
        await Promise.allSettled(loops);
        this.subscriptions.delete(sub);
      },
    };
    this.subscriptions.add(sub);
    return sub;
  }

  async declare(options: DurableOptions): Promise<void> {
    if (this.closed) throw new NoetlError('E_BUS_CLOSED', 'cannot declare a consumer: the bus is closed');
    await this.ensureConsumer(this.streamOf(options.filter), options, { owner: true });
  }

  async broadcast(subject: string, data: unknown): Promise<void> {
    if (this.closed) throw new NoetlError('E_BUS_CLOSED', `cannot broadcast to ${subject}: the bus is closed`);
    const payload = encodeMessage(subject, data, this.maxMessageBytes);
    const sent = Date.now();
    try {
      this.nc.publish(subject, payload);
    } catch (e) {
      const refused = this.refusal(subject, e);
      if (refused) throw refused;
      return;
    }
    // A refused core publish is answered with an error before the flush's PONG; the status reaches us a turn later.
    await this.nc.flush().catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    if ((this.refusedPublishes.get(subject) ?? 0) >= sent) throw this.forbidden(subject, 'publish');
  }

  listen<T>(filter: string, handler: (data: T, subject: string) => void): { unsubscribe(): void } {
    const sub = this.nc.subscribe(filter, {
      callback: (err, m) => {
        if (err) return;
        try {
          handler(m.json<T>(), m.subject);
        } catch {
          // a listener's failure stays with the listener
        }
      },
    });
    return { unsubscribe: () => sub.unsubscribe() };
  }

  /** A JetStream round trip (account info) within `pingTimeoutMs`: the server is reachable and has JetStream. */
  async ping(): Promise<void> {
    if (this.closed) throw new NoetlError('E_BUS_CLOSED', 'the bus is closed');
    const timeoutMs = this.options.pingTimeoutMs ?? 1_500;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const asked = this.jsm.getAccountInfo();
    asked.catch(() => undefined); // an answer that comes after the deadline is dropped
    try {
      await Promise.race([asked, late]);
    } catch (e) {
      throw new NoetlError('E_BUS_UNAVAILABLE', `NATS at ${this.where} does not answer: ${(e as Error).message}`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.allSettled([...this.subscriptions].map((s) => s.stop()));
    this.closed = true;
    await this.nc.drain().catch(() => this.nc.close());
  }

  /** The stream of the deployment that holds a subject (or filter). */
  private streamOf(subjectOrFilter: string): string {
    for (const s of Object.values(this.names.streams)) {
      const prefix = s.subjects[0]!.slice(0, -1);
      if (subjectOrFilter.startsWith(prefix)) return s.name;
    }
    const deployment = this.names.deployment;
    throw new NoetlError('E_BUS_UNAVAILABLE', `no stream of deployment "${deployment}" holds subject ${subjectOrFilter}`);
  }

  /**
   * Creates the durable if missing, else brings its ack deadline and deliveries
   * to these. A user that may not change consumers (a worker whose durable the
   * server declared) uses the durable as its owner set it; one that may not
   * create it gets E_BUS_FORBIDDEN.
   */
  private async ensureConsumer(stream: string, o: DurableOptions, how: { owner?: boolean } = {}): Promise<void> {
    try {
      await this.putConsumer(stream, o, how);
    } catch (e) {
      if (e instanceof NoetlError) throw e;
      const message = `cannot set up consumer ${o.durable} of ${stream} at ${this.where}: ${(e as Error).message}`;
      throw new NoetlError('E_BUS_UNAVAILABLE', message, { cause: e });
    }
  }

  private async putConsumer(stream: string, o: DurableOptions, how: { owner?: boolean }): Promise<void> {
    const config = {
      durable_name: o.durable,
      filter_subject: o.filter,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: (o.ackWaitMs ?? 30_000) * NS,
      max_deliver: o.maxDeliver ?? 5,
    };
    let existing: ConsumerInfo | undefined;
    try {
      existing = await this.jsm.consumers.info(stream, o.durable);
    } catch (e) {
      if (natsRefusal(e)) throw this.forbidden(`${stream} consumer ${o.durable}`, 'inspect', e);
    }
    try {
      if (!existing) await this.jsm.consumers.add(stream, config);
      else if (existing.config.ack_wait !== config.ack_wait || existing.config.max_deliver !== config.max_deliver) {
        await this.jsm.consumers.update(stream, o.durable, { ack_wait: config.ack_wait, max_deliver: config.max_deliver });
      }
    } catch (e) {
      if (!natsRefusal(e)) throw e;
      if (existing && !how.owner) return;
      const hint = existing ? '' : '; a user that may not create consumers needs `noetl server` to have declared them first';
      throw this.forbidden(`${stream} consumer ${o.durable}`, existing ? 'update' : 'create', e, hint);
    }
  }

  /** The coded error for a refusal no retry can cure, if `error` is one. */
  private refusal(subject: string, error: unknown): NoetlError | undefined {
    const why = natsRefusal(error);
    if (why === 'too-large') {
      const message = `a message for ${subject} is over the max_payload of NATS at ${this.where}`;
      return new NoetlError('E_MESSAGE_TOO_LARGE', message, { cause: error });
    }
    if (why) return this.forbidden(subject, 'publish', error);
    return undefined;
  }

  private forbidden(what: string, action: string, cause?: unknown, hint = ''): NoetlError {
    const said = cause instanceof Error ? ` (${cause.message.split('\n')[0]})` : '';
    const message = `NATS at ${this.where} does not permit this user to ${action} ${what}${said}${hint}`;
    return new NoetlError('E_BUS_FORBIDDEN', message, { cause });
  }

  /** Keeps the subjects NATS refused publishes to, for `broadcast`, whose refusal comes only as a status. */
  private async watchRefusals(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type !== 'error') continue;
      const error = status.error as Error & { operation?: string; subject?: string };
      if (error.name === 'PermissionViolationError' && error.operation === 'publish' && error.subject) {
        this.refusedPublishes.set(error.subject, Date.now());
        if (this.refusedPublishes.size > 1000) this.refusedPublishes.delete(this.refusedPublishes.keys().next().value!);
      }
    }
  }

  /** Listens for the server's max-deliveries advisories and hands the message over. */
  private watchDeadLetters(stream: string, o: ConsumeOptions): { unsubscribe(): void } {
    const sub = this.nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${o.durable}`);
    void (async () => {
      for await (const m of sub) {
        try {
          const adv = m.json<{ stream_seq: number; deliveries: number }>();
          const stored = await this.jsm.streams.getMessage(stream, { seq: adv.stream_seq });
          if (!stored) continue;
          o.onDeadLetter?.(stored.subject, stored.json(), adv.deliveries);
          await this.jsm.streams.deleteMessage(stream, adv.stream_seq, false);
        } catch {
          // already removed by another watcher of the same durable
        }
      }
    })();
    return sub;
  }
}

async function deliver<T>(m: JsMsg, handler: (d: Delivery<T>) => Promise<void>): Promise<void> {
  let settled = false;
  const once = (f: () => void) => (): void => {
    if (settled) return;
    settled = true;
    f();
  };
  const delivery: Delivery<T> = {
    subject: m.subject,
    data: m.json<T>(),
    deliveryCount: m.info.deliveryCount,
    ack: once(() => m.ack()),
    nak: (delayMs?: number) => once(() => m.nak(delayMs))(),
    working: () => {
      if (!settled) m.working();
    },
    term: once(() => m.term()),
  };
  try {
    await handler(delivery);
  } catch {
    delivery.nak();
  }
}

async function ensureStreams(jsm: JetStreamManager, names: BusNames): Promise<void> {
  const { commands, events, lineage } = names.streams;
  const configs = [
    { name: commands.name, subjects: [...commands.subjects], retention: RetentionPolicy.Workqueue },
    { name: events.name, subjects: [...events.subjects], retention: RetentionPolicy.Limits, max_age: 7 * 24 * 3600 * 1000 * NS },
    { name: lineage.name, subjects: [...lineage.subjects], retention: RetentionPolicy.Limits, max_age: 7 * 24 * 3600 * 1000 * NS },
  ];
  for (const c of configs) {
    const config = { ...c, storage: StorageType.File, duplicate_window: DUPLICATE_WINDOW_MS * NS };
    try {
      await jsm.streams.info(c.name);
    } catch {
      await jsm.streams.add(config);
    }
  }
}
