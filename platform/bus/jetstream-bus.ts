/**
 * The bus over NATS JetStream, for the distributed mode. Streams and durable
 * pull consumers are created idempotently; `Nats-Msg-Id` de-duplicates
 * publishes within the stream's duplicate window; the server redelivers what
 * is not acked within `ack_wait`, up to `max_deliver` times, and its
 * max-deliveries advisory hands the message to `onDeadLetter`.
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
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { NoetlError } from '../../common/errors.ts';
import { redactUrl } from '../config/config.ts';
import type { Bus, ConsumeOptions, Delivery, Subscription } from './bus.ts';
import { STREAMS } from './messages.ts';

const NS = 1_000_000;
const DUPLICATE_WINDOW_MS = 120_000;

export interface JetStreamBusOptions {
  url: string;
  /** Connection name shown by the server (e.g. `noetl-worker-gpu`). */
  name?: string;
  /** How long a publish keeps retrying while the server is unreachable. */
  publishTimeoutMs?: number;
  /** How long `ping` waits for the server (default 1.5 s). */
  pingTimeoutMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function streamOf(subjectOrFilter: string): string {
  for (const s of Object.values(STREAMS)) {
    const prefix = s.subjects[0].slice(0, -1);
    if (subjectOrFilter.startsWith(prefix)) return s.name;
  }
  throw new NoetlError('E_BUS_UNAVAILABLE', `no stream holds subject ${subjectOrFilter}`);
}

export class JetStreamBus implements Bus {
  private closed = false;
  private readonly subscriptions = new Set<Subscription>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly options: JetStreamBusOptions,
  ) {}

  /** Connects, checks JetStream is enabled and creates the streams if missing. */
  static async connect(options: JetStreamBusOptions): Promise<JetStreamBus> {
    let nc: NatsConnection;
    try {
      nc = await connect({ servers: options.url, name: options.name ?? 'noetl', maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    } catch (e) {
      throw new NoetlError('E_BUS_UNAVAILABLE', `cannot connect to NATS at ${options.url}: ${(e as Error).message}`, { cause: e });
    }
    try {
      const jsm = await jetstreamManager(nc, { timeout: 5000 });
      await jsm.getAccountInfo();
      await ensureStreams(jsm);
      return new JetStreamBus(nc, jetstream(nc), jsm, options);
    } catch (e) {
      await nc.close();
      if (e instanceof NoetlError) throw e;
      const msg = (e as Error).message;
      const hint = /not enabled|503|no responders/i.test(msg) ? ' (start nats-server with -js to enable JetStream)' : '';
      throw new NoetlError('E_BUS_UNAVAILABLE', `NATS at ${options.url} has no usable JetStream: ${msg}${hint}`, { cause: e });
    }
  }

  async publish(subject: string, data: unknown, options: { msgId: string }): Promise<void> {
    const deadline = Date.now() + (this.options.publishTimeoutMs ?? 60_000);
    const payload = JSON.stringify(data);
    for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
      if (this.closed) throw new NoetlError('E_BUS_CLOSED', `cannot publish to ${subject}: the bus is closed`);
      try {
        await this.js.publish(subject, payload, { msgID: options.msgId, timeout: 5000 });
        return;
      } catch (e) {
        // Unreachable server: retry with the same message id, so a publish that did land is not doubled.
        if (Date.now() + wait > deadline) throw new NoetlError('E_BUS_UNAVAILABLE', `cannot publish to ${subject}: ${(e as Error).message}`, { cause: e });
        await sleep(wait);
      }
    }
  }

  consume<T>(options: ConsumeOptions, handler: (m: Delivery<T>) => Promise<void>): Subscription {
    if (this.closed) throw new NoetlError('E_BUS_CLOSED', 'cannot consume: the bus is closed');
    const stream = streamOf(options.filter);
    let stopped = false;
    const active = new Set<Promise<void>>();
    const ready = this.ensureConsumer(stream, options);
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

  async broadcast(subject: string, data: unknown): Promise<void> {
    if (this.closed) throw new NoetlError('E_BUS_CLOSED', `cannot broadcast to ${subject}: the bus is closed`);
    this.nc.publish(subject, JSON.stringify(data));
    await this.nc.flush().catch(() => undefined);
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
      throw new NoetlError('E_BUS_UNAVAILABLE', `NATS at ${redactUrl(this.options.url)} does not answer: ${(e as Error).message}`, { cause: e });
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

  private async ensureConsumer(stream: string, o: ConsumeOptions): Promise<void> {
    const config = {
      durable_name: o.durable,
      filter_subject: o.filter,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: (o.ackWaitMs ?? 30_000) * NS,
      max_deliver: o.maxDeliver ?? 5,
    };
    try {
      await this.jsm.consumers.info(stream, o.durable);
      await this.jsm.consumers.update(stream, o.durable, { ack_wait: config.ack_wait, max_deliver: config.max_deliver });
    } catch {
      await this.jsm.consumers.add(stream, config);
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

async function ensureStreams(jsm: JetStreamManager): Promise<void> {
  const configs = [
    { name: STREAMS.commands.name, subjects: [...STREAMS.commands.subjects], retention: RetentionPolicy.Workqueue },
    { name: STREAMS.events.name, subjects: [...STREAMS.events.subjects], retention: RetentionPolicy.Limits, max_age: 7 * 24 * 3600 * 1000 * NS },
    { name: STREAMS.lineage.name, subjects: [...STREAMS.lineage.subjects], retention: RetentionPolicy.Limits, max_age: 7 * 24 * 3600 * 1000 * NS },
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
