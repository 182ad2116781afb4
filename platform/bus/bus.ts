/**
 * The bus port. Delivery is at-least-once: a message is redelivered until a
 * consumer acks it, after `ackWaitMs` without an ack or at once after a nak,
 * up to `maxDeliver` times, after which it is handed to `onDeadLetter`.
 * Publishing with a message id already seen within the duplicate window is a
 * no-op. A publish that retrying cannot help (a message over
 * `maxMessageBytes`, a subject the bus's credentials may not publish to) fails
 * at once with a non-retryable code. A bus belongs to one deployment, whose
 * subjects it names (`names`). The in-process adapter and JetStream pass the
 * same conformance suite.
 */
import { NoetlError } from '../../common/errors.ts';
import type { BusNames } from './deployment-names.ts';

/** nats-server's default max_payload, which the in-process bus copies. */
export const NATS_DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/** Kept free within the server's max_payload for a message's headers (its message id). */
export const HEADER_ALLOWANCE_BYTES = 4096;
/** The largest message (its JSON, in bytes) either adapter takes by default. */
export const DEFAULT_MAX_MESSAGE_BYTES = NATS_DEFAULT_MAX_PAYLOAD - HEADER_ALLOWANCE_BYTES;

export interface Delivery<T = unknown> {
  subject: string;
  data: T;
  /** 1 on first delivery. */
  deliveryCount: number;
  ack(): void;
  /** Hand the message back for redelivery, optionally after a delay. */
  nak(delayMs?: number): void;
  /** Still working on it: resets the ack deadline. */
  working(): void;
  /** Never redeliver. */
  term(): void;
}

/** A durable consumer: where its messages come from and how they are redelivered. */
export interface DurableOptions {
  /** Durable consumer name: consumers sharing it share the work. */
  durable: string;
  /** Subject filter, NATS-style (`*` one token, `>` the rest). */
  filter: string;
  ackWaitMs?: number;
  maxDeliver?: number;
}

export interface ConsumeOptions extends DurableOptions {
  concurrency: number;
  /**
   * Messages an adapter may fetch ahead of free handler slots (default 0). Only
   * for quick handlers: a prefetched message's ack deadline runs while it waits.
   */
  prefetch?: number;
  onDeadLetter?: (subject: string, data: unknown, deliveries: number) => void;
}

export interface Subscription {
  /**
   * Settles once the durable is in place; rejects with a coded error when it
   * cannot be (e.g. E_BUS_FORBIDDEN: it does not exist and these credentials
   * may not create it). Nothing is delivered after a rejection.
   */
  readonly ready: Promise<void>;
  /** Stops taking new messages and waits for handlers under way. */
  stop(): Promise<void>;
}

export interface Bus {
  /** The subjects, streams and durables of this bus's deployment. */
  readonly names: BusNames;
  /** The largest message, in bytes of JSON, `publish` and `broadcast` accept: check a payload against it before sending. */
  readonly maxMessageBytes: number;
  /**
   * Stores `data` on `subject`. Rejects at once, not retryable, with
   * E_MESSAGE_TOO_LARGE over `maxMessageBytes` and E_BUS_FORBIDDEN when the
   * credentials may not publish there; with E_BUS_UNAVAILABLE when the bus
   * stayed unreachable for the adapter's publish timeout.
   */
  publish(subject: string, data: unknown, options: { msgId: string }): Promise<void>;
  consume<T>(options: ConsumeOptions, handler: (m: Delivery<T>) => Promise<void>): Subscription;
  /**
   * Creates a durable (or updates its redelivery settings) without consuming:
   * messages for it are kept from now on. A server declares its workers'
   * durables, so workers need no right to create consumers.
   */
  declare(options: DurableOptions): Promise<void>;
  /** At-most-once fan-out to every current listener (control messages: cancel, announcements). */
  broadcast(subject: string, data: unknown): Promise<void>;
  listen<T>(filter: string, handler: (data: T, subject: string) => void): { unsubscribe(): void };
  /** Resolves when the bus answers now; rejects with E_BUS_UNAVAILABLE when it cannot be reached, E_BUS_CLOSED once closed. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** NATS subject matching: `*` matches one token, a final `>` matches one or more. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== '*' && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}

/** The JSON of a message, refused with E_MESSAGE_TOO_LARGE when over `maxBytes`: no bus could ever take it. */
export function encodeMessage(subject: string, data: unknown, maxBytes: number): string {
  const json = JSON.stringify(data);
  // A UTF-8 byte is at most three per UTF-16 unit: most messages need no exact count.
  if (json.length * 3 <= maxBytes) return json;
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > maxBytes) {
    const message = `a message of ${bytes} bytes for ${subject} is over the bus's limit of ${maxBytes} bytes`;
    throw new NoetlError('E_MESSAGE_TOO_LARGE', message, { details: { subject, bytes, maxBytes } });
  }
  return json;
}
