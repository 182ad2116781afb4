/** Lineage graph updates that trail their events: gathered, written together and in order, failures logged. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnyLineageEvent } from '../../lineage/index.ts';
import { createLogger } from '../../platform/log/logger.ts';
import { TrailingGraph } from '../../services/orchestrator/supervisor/trailing-graph.ts';

const ev = (name: string): AnyLineageEvent => ({ job: { name } }) as unknown as AnyLineageEvent;
const names = (batch: AnyLineageEvent[]): string[] => batch.map((e) => (e as unknown as { job: { name: string } }).job.name);

describe('trailing lineage graph updates', () => {
  it('writes what gathered within the interval as one batch, in order', async () => {
    const batches: string[][] = [];
    const g = new TrailingGraph((b) => Promise.resolve(void batches.push(names(b))), createLogger({ level: 'error', write: () => {} }), 30);
    g.add([ev('a')]);
    g.add([ev('b'), ev('c')]);
    g.add([]);
    assert.deepEqual(batches, [], 'nothing is written at once');
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(batches, [['a', 'b', 'c']]);
  });

  it('flush writes what waits now and settles after earlier writes; a failed write is logged and the next one still goes', async () => {
    const batches: string[][] = [];
    const logged: string[] = [];
    let fail = true;
    const g = new TrailingGraph(
      async (b) => {
        await new Promise((r) => setTimeout(r, 10));
        if (fail) {
          fail = false;
          throw new Error('database gone');
        }
        batches.push(names(b));
      },
      createLogger({ level: 'warn', write: (l) => logged.push(l) }),
      10_000,
    );
    g.add([ev('lost')]);
    const first = g.flush();
    g.add([ev('kept')]);
    await g.flush();
    await first;
    assert.deepEqual(batches, [['kept']]);
    assert.equal(logged.length, 1);
    assert.match(logged[0]!, /cannot add steps to the lineage graph.*database gone/);
  });
});
