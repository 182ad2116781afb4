/**
 * What becomes of a message of events for an execution this server's database
 * does not know. It is never applied and never dropped silently: it is handed
 * back a few times with a growing delay (a database catching up gets to know
 * the execution), then each of its events is kept in `unknown_events` as it
 * came, an error naming the event ids is logged, and the message is
 * terminated. If it cannot even be kept, it stays on the bus for later.
 */
import { createHash } from 'node:crypto';
import type { Delivery, EventsMessage } from '../../../platform/bus/index.ts';
import type { Db } from '../../../platform/index.ts';
import type { Logger } from '../../../platform/log/logger.ts';

/** The delivery on which the events are kept and terminated; the ones before it are handed back after 1 s, 2 s, … */
export const UNKNOWN_EXECUTION_DELIVERIES = 3;
const KEEP_RETRY_MS = 5000;

/** Settles a delivery of events whose execution is unknown (see the module comment). */
export async function settleUnknownEvents(db: Db, log: Logger, m: Delivery<EventsMessage>): Promise<void> {
  const events: unknown[] = Array.isArray(m.data) ? m.data : [m.data];
  const rows = events.map((event) => rowOf(event, m));
  const ids = rows.map((r) => r.event_id);
  const execution = rows[0]?.execution_id;
  if (m.deliveryCount < UNKNOWN_EXECUTION_DELIVERIES) {
    log.warn('events for an unknown execution; they will be tried again', { execution, events: ids, delivery: m.deliveryCount });
    m.nak(1000 * 2 ** (m.deliveryCount - 1));
    return;
  }
  try {
    if (rows.length > 0) await db.insertInto('unknown_events').values(rows).onConflict((c) => c.column('event_id').doNothing()).execute();
  } catch (e) {
    log.error('cannot keep events for an unknown execution; they will be redelivered', { execution, events: ids, error: (e as Error).message });
    m.nak(KEEP_RETRY_MS);
    return;
  }
  log.error('events for an unknown execution were not applied; kept in the table unknown_events', { execution, events: ids, subject: m.subject });
  m.term();
}

/** One event as a row, whatever it holds: every string escaped so PostgreSQL can store it. */
function rowOf(event: unknown, m: Delivery<EventsMessage>) {
  const json = JSON.stringify(event) ?? 'null';
  const field = (name: string): string | undefined => {
    const value = event !== null && typeof event === 'object' ? (event as Record<string, unknown>)[name] : undefined;
    return typeof value === 'string' ? storable(value) : undefined;
  };
  return {
    event_id: field('eventId') ?? `sha256:${createHash('sha256').update(json).digest('hex')}`,
    execution_id: field('executionId') ?? '',
    subject: storable(m.subject),
    type: field('type') ?? null,
    payload: json,
    deliveries: m.deliveryCount,
  };
}

/** PostgreSQL text holds no NUL: written as JSON writes it. */
function storable(text: string): string {
  return text.replace(/\0/g, '\\u0000');
}
