/**
 * The qdrant tool. Against a real Qdrant server when NOETL_QDRANT_URL is set
 * (none can be had on this machine; those tests are reported as skipped
 * otherwise); its input checks and an unreachable server, always.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { NoetlError } from '../../common/errors.ts';
import type { TableRef } from '../../platform/bus/messages.ts';
import { toolBench, type ToolBench } from '../helpers/tool-context.ts';

const QDRANT_URL = process.env.NOETL_QDRANT_URL;

describe('qdrant tool', () => {
  let bench: ToolBench;
  let points: TableRef;
  const collection = `noetl_test_${randomUUID().slice(0, 8)}`;

  before(async () => {
    bench = await toolBench();
    const made = await bench.run({ kind: 'duckdb', sql: "SELECT i AS id, [cos(i / 10), sin(i / 10), 0.5]::FLOAT[] AS vector, 'doc ' || i AS title, i % 2 = 0 AS even FROM range(1, 601) t(i)" });
    points = made.result as TableRef;
  });
  after(() => bench.close());

  it('checks its input before calling anything', async () => {
    const secrets = { vectors: 'http://127.0.0.1:1' };
    await assert.rejects(bench.run({ kind: 'qdrant', credential: 'vectors', collection: 'c' }, { secrets }), /needs "action"/);
    await assert.rejects(bench.run({ kind: 'qdrant', credential: 'vectors', action: 'search', collection: 'bad name!' }, { secrets }), /needs "collection"/);
    await assert.rejects(bench.run({ kind: 'qdrant', action: 'search', collection: 'c' }, { secrets }), /needs "credential"/);
    await assert.rejects(bench.run({ kind: 'qdrant', credential: 'vectors', action: 'upsert', collection: 'c', from: '{{ results.x }}' }, { secrets, results: { x: { kind: 'value', value: 1 } } }), /not a table reference/);
  });

  it('an unreachable server is E_TOOL_FAILED, retryable', async () => {
    await assert.rejects(
      bench.run({ kind: 'qdrant', credential: 'vectors', action: 'search', collection: 'c', vector: [1, 0, 0] }, { secrets: { vectors: 'http://127.0.0.1:1' } }),
      (e: unknown) => e instanceof NoetlError && e.code === 'E_TOOL_FAILED' && e.retryable,
    );
  });

  describe('against a real Qdrant server', () => {
    const secrets = { vectors: QDRANT_URL ?? '' };

    it('creates a collection once, upserts a table of points, and finds the nearest', { skip: QDRANT_URL ? false : 'NOETL_QDRANT_URL is not set' }, async () => {
      const created = await bench.run({ kind: 'qdrant', credential: 'vectors', action: 'create_collection', collection, vector_size: 3, distance: 'Cosine' }, { secrets });
      assert.deepEqual(created.result, { kind: 'value', value: { collection, created: true } });
      const again = await bench.run({ kind: 'qdrant', credential: 'vectors', action: 'create_collection', collection, vector_size: 3 }, { secrets });
      assert.deepEqual(again.result, { kind: 'value', value: { collection, created: false } });
      const up = await bench.run({ kind: 'qdrant', credential: 'vectors', action: 'upsert', collection, from: '{{ results.points }}' }, { secrets, results: { points } });
      assert.deepEqual(up.result, { kind: 'value', value: { collection, upserted: 600 } });
      const server = new URL(QDRANT_URL!);
      assert.deepEqual(up.lineage.outputs?.map((o) => [o.dataset.namespace, o.dataset.name, o.rows]), [[`qdrant://${server.hostname}:${server.port || '6333'}`, collection, 600]]);
      const found = await bench.run({ kind: 'qdrant', credential: 'vectors', action: 'search', collection, vector: [Math.cos(4.2), Math.sin(4.2), 0.5], limit: 3 }, { secrets });
      const hits = (found.result as { value: { id: number; payload: { title: string } }[] }).value;
      assert.equal(hits[0]!.id, 42);
      assert.equal(hits[0]!.payload.title, 'doc 42');
    });
  });
});
