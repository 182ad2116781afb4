/**
 * Lineage graph updates that may trail their events by a moment: the job nodes
 * of steps that read and wrote no data. Gathered from every execution and
 * written together at most every `intervalMs`, in order, off the path from one
 * step to the next; `flush` writes what is waiting at once (an execution that
 * ends, a supervisor that stops). A failed write is logged, never thrown.
 */
import { asNoetlError } from '../../../common/errors.ts';
import type { AnyLineageEvent } from '../../../lineage/index.ts';
import type { Logger } from '../../../platform/log/logger.ts';

export class TrailingGraph {
  private pending: AnyLineageEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private written: Promise<void> = Promise.resolve();

  constructor(
    private readonly write: (events: AnyLineageEvent[]) => Promise<void>,
    private readonly log: Logger,
    private readonly intervalMs = 50,
  ) {}

  add(events: readonly AnyLineageEvent[]): void {
    if (events.length === 0) return;
    this.pending.push(...events);
    this.timer ??= setTimeout(() => void this.flush(), this.intervalMs).unref();
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending.splice(0);
    if (batch.length > 0) {
      this.written = this.written.then(() => this.write(batch)).catch((e: unknown) => this.log.warn('cannot add steps to the lineage graph', { events: batch.length, error: asNoetlError(e).message }));
    }
    return this.written;
  }
}
