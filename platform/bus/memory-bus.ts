/**
 * The in-process bus for the embedded mode, with the delivery semantics of
 * JetStream durable pull consumers: each durable gets its own copy of every
 * matching message, consumers sharing a durable share the work, unacked
 * messages come back after the ack deadline, and the message id de-duplicates
 * publishes. Messages are JSON round-tripped, as they would be on the wire,
 * and held to the same maximum size as nats-server's default.
 */
import { asNoetlError, NoetlError } from '../../common/errors.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, encodeMessage, subjectMatches } from './bus.ts';
import type { Bus, ConsumeOptions, Delivery, DurableOptions, Subscription } from './bus.ts';
import { busNames, type BusNames } from './deployment-names.ts';

export interface MemoryBusOptions {
  /** The deployment whose names the bus gives out (default `noetl`). */
  deployment?: string;
  /** The largest message in bytes of JSON (default: nats-server's default max_payload less the header allowance). */
  maxMessageBytes?: number;
}

interface Message {
  seq: number;
  subject: string;
  json: string;
  deliveries: number;
}

interface Subscriber {
  handler: (m: Delivery) => Promise<void>;
  concurrency: number;
  active: Set<Promise<void>>;
  stopped: boolean;
}

const DEFAULT_ACK_WAIT_MS = 30_000;
const DEFAULT_MAX_DELIVER = 5;
const DUPLICATE_WINDOW_MS = 120_000;

class Durable {
  private readonly ready: Message[] = [];
  private readonly pending = new Map<number, ReturnType<typeof setTimeout>>();
  private readonly subscribers: Subscriber[] = [];
  private next = 0;
  private scheduled = false;

  /** Redelivery settings and dead-letter callback: a durable declared first takes its consumer's when one comes. */
  constructor(public options: DurableOptions & Pick<ConsumeOptions, 'onDeadLetter'>) {}

  enqueue(m: Message): void {
    this.ready.push(m);
    this.schedule();
  }

  add(s: Subscriber): void {
    this.subscribers.push(s);
    this.schedule();
  }

  remove(s: Subscriber): void {
    const i = this.subscribers.indexOf(s);
    if (i >= 0) this.subscribers.splice(i, 1);
  }

  clear(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.ready.length > 0) {
      const s = this.pickSubscriber();
      if (!s) return;
      this.deliver(this.ready.shift()!, s);
    }
  }

  private pickSubscriber(): Subscriber | undefined {
    for (let i = 0; i < this.subscribers.length; i++) {
      const s = this.subscribers[(this.next + i) % this.subscribers.length]!;
      if (!s.stopped && s.active.size < s.concurrency) {
        this.next = (this.next + i + 1) % this.subscribers.length;
        return s;
      }
    }
    return undefined;
  }

  private deliver(m: Message, s: Subscriber): void {
    m.deliveries += 1;
    const ackWait = this.options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
    let settled = false;
    const arm = (): void => {
      clearTimeout(this.pending.get(m.seq));
      this.pending.set(m.seq, setTimeout(() => settle('redeliver', 0), ackWait));
    };
    const settle = (how: 'ack' | 'redeliver' | 'term', delayMs: number): void => {
      if (settled) return;
      settled = true;
      clearTimeout(this.pending.get(m.seq));
      this.pending.delete(m.seq);
      if (how === 'redeliver') this.redeliver(m, delayMs);
      this.schedule();
    };
    arm();
    const delivery: Delivery = {
      subject: m.subject,
      data: JSON.parse(m.json) as unknown,
      deliveryCount: m.deliveries,
      ack: () => settle('ack', 0),
      nak: (delayMs = 0) => settle('redeliver', delayMs),
      working: () => {
        if (!settled) arm();
      },
      term: () => settle('term', 0),
    };
    const run = (async () => {
      try {
        await s.handler(delivery);
      } catch {
        delivery.nak();
      }
    })().finally(() => {
      s.active.delete(run);
      this.schedule();
    });
    s.active.add(run);
  }

  private redeliver(m: Message, delayMs: number): void {
    const max = this.options.maxDeliver ?? DEFAULT_MAX_DELIVER;
    if (m.deliveries >= max) {
      this.options.onDeadLetter?.(m.subject, JSON.parse(m.json), m.deliveries);
      return;
    }
    if (delayMs <= 0) {
      this.enqueue(m);
    } else {
      const t = setTimeout(() => {
        this.pending.delete(-m.seq);
        this.enqueue(m);
      }, delayMs);
      this.pending.set(-m.seq, t);
    }
  }
}

export class MemoryBus implements Bus {
  readonly names: BusNames;
  readonly maxMessageBytes: number;
  private readonly durables = new Map<string, Durable>();
  /** Messages no durable has claimed yet, kept as a stream keeps them. */
  private readonly retained: Message[] = [];
  private readonly seen = new Map<string, number>();
  private seq = 0;
  private closed = false;
  private readonly listeners = new Set<{ filter: string; handler: (data: unknown, subject: string) => void }>();

  constructor(options: MemoryBusOptions = {}) {
    this.names = busNames(options.deployment);
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  publish(subject: string, data: unknown, options: { msgId: string }): Promise<void> {
    if (this.closed) return Promise.reject(new NoetlError('E_BUS_CLOSED', `cannot publish to ${subject}: the bus is closed`));
    let json: string;
    try {
      json = encodeMessage(subject, data, this.maxMessageBytes);
    } catch (e) {
      return Promise.reject(asNoetlError(e));
    }
    const now = Date.now();
    this.forgetOld(now);
    if (this.seen.has(options.msgId)) return Promise.resolve();
    this.seen.set(options.msgId, now);
    let claimed = false;
    for (const d of this.durables.values()) {
      if (subjectMatches(d.options.filter, subject)) {
        d.enqueue({ seq: ++this.seq, subject, json, deliveries: 0 });
        claimed = true;
      }
    }
    if (!claimed) this.retained.push({ seq: ++this.seq, subject, json, deliveries: 0 });
    return Promise.resolve();
  }

  consume<T>(options: ConsumeOptions, handler: (m: Delivery<T>) => Promise<void>): Subscription {
    if (this.closed) throw new NoetlError('E_BUS_CLOSED', 'cannot consume: the bus is closed');
    const durable = this.durable(options);
    durable.options = { ...options, filter: durable.options.filter };
    const subscriber: Subscriber = { handler: handler as (m: Delivery) => Promise<void>, concurrency: options.concurrency, active: new Set(), stopped: false };
    durable.add(subscriber);
    const d = durable;
    return {
      ready: Promise.resolve(),
      async stop() {
        subscriber.stopped = true;
        d.remove(subscriber);
        await Promise.allSettled([...subscriber.active]);
      },
    };
  }

  declare(options: DurableOptions): Promise<void> {
    if (this.closed) return Promise.reject(new NoetlError('E_BUS_CLOSED', 'cannot declare a consumer: the bus is closed'));
    const durable = this.durable(options);
    durable.options = { ...durable.options, ackWaitMs: options.ackWaitMs, maxDeliver: options.maxDeliver };
    return Promise.resolve();
  }

  broadcast(subject: string, data: unknown): Promise<void> {
    if (this.closed) return Promise.reject(new NoetlError('E_BUS_CLOSED', `cannot broadcast to ${subject}: the bus is closed`));
    let json: string;
    try {
      json = encodeMessage(subject, data, this.maxMessageBytes);
    } catch (e) {
      return Promise.reject(asNoetlError(e));
    }
    for (const l of [...this.listeners]) if (subjectMatches(l.filter, subject)) l.handler(JSON.parse(json), subject);
    return Promise.resolve();
  }

  listen<T>(filter: string, handler: (data: T, subject: string) => void): { unsubscribe(): void } {
    const l = { filter, handler: handler as (data: unknown, subject: string) => void };
    this.listeners.add(l);
    return { unsubscribe: () => this.listeners.delete(l) };
  }

  /** In process, the bus is there as long as it is open. */
  ping(): Promise<void> {
    if (this.closed) return Promise.reject(new NoetlError('E_BUS_CLOSED', 'the bus is closed'));
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    for (const d of this.durables.values()) d.clear();
    await Promise.resolve();
  }

  /** The durable of that name, made on first use with the messages kept for it so far. */
  private durable(options: DurableOptions): Durable {
    let durable = this.durables.get(options.durable);
    if (!durable) {
      durable = new Durable(options);
      this.durables.set(options.durable, durable);
      for (let i = 0; i < this.retained.length; ) {
        const m = this.retained[i]!;
        if (subjectMatches(options.filter, m.subject)) {
          durable.enqueue(m);
          this.retained.splice(i, 1);
        } else i++;
      }
    }
    return durable;
  }

  /** Ids leave the duplicate window oldest first (the map keeps them in the order they came). */
  private forgetOld(now: number): void {
    for (const [id, at] of this.seen) {
      if (now - at < DUPLICATE_WINDOW_MS) return;
      this.seen.delete(id);
    }
  }
}
