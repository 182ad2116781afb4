/**
 * The vector index port's conformance suite, run over every adapter: upsert
 * (and replace), delete, k nearest by cosine with filters on domain, kind and
 * status, count and clear.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VectorIndex, VectorItem } from '../../platform/vector-index/index.ts';

export interface VectorIndexAdapter {
  name: string;
  /** Why the adapter cannot run here, when it cannot (the suite is then skipped, saying so). */
  unavailable?: () => Promise<string | undefined>;
  /** A fresh, empty collection of vectors of `dimensions`. */
  open(dimensions: number): Promise<VectorIndex>;
  close?(): Promise<void>;
}

const unit = (v: number[]): number[] => {
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / n);
};

const item = (id: string, vector: number[], domain: string, kind = 'product', status = 'active'): VectorItem => ({
  id,
  vector: unit(vector),
  payload: { kind, domain, status, title: id },
});

export function vectorIndexConformance(adapter: VectorIndexAdapter): void {
  describe(`vector index conformance: ${adapter.name}`, async () => {
    const reason = await adapter.unavailable?.();
    const test = (name: string, fn: () => Promise<void>): void =>
      void it(name, reason === undefined ? {} : { skip: reason }, fn);

    test('finds the k nearest by cosine, best first, with their payloads', async () => {
      const index = await adapter.open(3);
      await index.upsert([
        item('a', [1, 0, 0], 'risk'),
        item('b', [0, 1, 0], 'risk'),
        item('c', [0.9, 0.1, 0], 'marketing'),
      ]);
      const hits = await index.search(unit([1, 0.05, 0]), { k: 2 });
      assert.deepEqual(
        hits.map((h) => h.id),
        ['a', 'c'],
      );
      assert.ok(hits[0]!.score > 0.99 && hits[0]!.score <= 1.0001 && hits[1]!.score < hits[0]!.score);
      assert.deepEqual(hits[0]!.payload, { kind: 'product', domain: 'risk', status: 'active', title: 'a' });
      assert.equal(await index.count(), 3);
    });

    test('replaces an item upserted again, and forgets a deleted one', async () => {
      const index = await adapter.open(3);
      await index.upsert([item('a', [1, 0, 0], 'risk'), item('b', [0, 1, 0], 'risk')]);
      await index.upsert([item('a', [0, 0, 1], 'risk', 'failure', 'failed')]);
      const hits = await index.search(unit([0, 0, 1]), { k: 1 });
      assert.deepEqual(
        hits.map((h) => [h.id, h.payload.kind, h.payload.status]),
        [['a', 'failure', 'failed']],
      );
      await index.delete(['a']);
      assert.deepEqual(
        (await index.search(unit([0, 0, 1]), { k: 5 })).map((h) => h.id),
        ['b'],
      );
      assert.equal(await index.count(), 1);
    });

    test('filters by domain, kind and status, each a value or a list', async () => {
      const index = await adapter.open(3);
      await index.upsert([
        item('p1', [1, 0, 0], 'risk'),
        item('f1', [1, 0.1, 0], 'risk', 'failure', 'failed'),
        item('p2', [1, 0.2, 0], 'marketing'),
        item('e1', [1, 0.3, 0], 'marketing', 'execution', 'completed'),
      ]);
      const ids = async (filter: Parameters<VectorIndex['search']>[1]['filter']) =>
        (await index.search(unit([1, 0, 0]), { k: 10, filter })).map((h) => h.id);
      assert.deepEqual(await ids({ domain: 'risk' }), ['p1', 'f1']);
      assert.deepEqual(await ids({ kind: 'product' }), ['p1', 'p2']);
      assert.deepEqual(await ids({ status: ['failed', 'completed'] }), ['f1', 'e1']);
      assert.deepEqual(await ids({ domain: ['marketing'], kind: 'execution' }), ['e1']);
      assert.deepEqual(await ids({ domain: 'healthcare' }), []);
    });

    test('clears every item, for a rebuild', async () => {
      const index = await adapter.open(3);
      await index.upsert([item('a', [1, 0, 0], 'risk')]);
      await index.clear();
      assert.equal(await index.count(), 0);
      assert.deepEqual(await index.search(unit([1, 0, 0]), { k: 3 }), []);
    });

    test('refuses a vector of the wrong length', async () => {
      const index = await adapter.open(3);
      await assert.rejects(index.upsert([{ id: 'x', vector: [1, 0], payload: { kind: 'product', domain: 'risk' } }]));
    });
  });
}
