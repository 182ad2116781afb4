/**
 * The durable consumer a worker pool pulls its commands from. The server
 * declares it for every pool it routes to (so workers need no right to create
 * consumers) and the workers consume it: both build it here, so they agree.
 */
import type { BusNames, DurableOptions } from '../../platform/bus/index.ts';

/** The commands durable of `pool`, with the ack deadline and deliveries a command gets (defaults 30 s, 10). */
export function commandConsumer(names: BusNames, pool: string, limits: { ackWaitMs?: number; maxDeliver?: number } = {}): DurableOptions {
  return {
    durable: names.durables.workers(pool),
    filter: names.subjects.commands(pool),
    ackWaitMs: limits.ackWaitMs ?? 30_000,
    maxDeliver: limits.maxDeliver ?? 10,
  };
}
