/**
 * The bus port. Delivery is at-least-once: a message is redelivered until a
 * consumer acks it, after `ackWaitMs` without an ack or at once after a nak,
 * up to `maxDeliver` times, after which it is handed to `onDeadLetter`.
 * Publishing with a message id already seen within the duplicate window is a
 * no-op. The in-process adapter and JetStream pass the same conformance suite.
 */

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

export interface ConsumeOptions {
  /** Durable consumer name: consumers sharing it share the work. */
  durable: string;
  /** Subject filter, NATS-style (`*` one token, `>` the rest). */
  filter: string;
  concurrency: number;
  ackWaitMs?: number;
  maxDeliver?: number;
  /**
   * Messages an adapter may fetch ahead of free handler slots (default 0). Only
   * for quick handlers: a prefetched message's ack deadline runs while it waits.
   */
  prefetch?: number;
  onDeadLetter?: (subject: string, data: unknown, deliveries: number) => void;
}

export interface Subscription {
  /** Stops taking new messages and waits for handlers under way. */
  stop(): Promise<void>;
}

export interface Bus {
  publish(subject: string, data: unknown, options: { msgId: string }): Promise<void>;
  consume<T>(options: ConsumeOptions, handler: (m: Delivery<T>) => Promise<void>): Subscription;
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
