/** The clickhouse tool against a real ClickHouse server (18.16, its own instance): command, insert from a table reference, query to a table; errors coded. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { NoetlError } from '../../common/errors.ts';
import type { StepCommand, TableRef } from '../../platform/bus/messages.ts';
import { stepLineage } from '../../services/worker/step-lineage.ts';
import { openLineageErrors } from '../helpers/openlineage.ts';
import { startClickHouse, type TestClickHouse } from '../helpers/clickhouse-server.ts';
import { toolBench, type ToolBench } from '../helpers/tool-context.ts';

describe('clickhouse tool', () => {
  let ch: TestClickHouse;
  let bench: ToolBench;
  let secrets: Record<string, string>;

  before(async () => {
    [ch, bench] = await Promise.all([startClickHouse(), toolBench()]);
    secrets = { events: ch.url };
  });
  after(async () => {
    bench?.close();
    await ch?.stop();
  });

  it('creates a table, inserts a table reference into it, and queries it back as a Parquet table', async () => {
    const spans = (await bench.run({ kind: 'duckdb', sql: "SELECT i AS id, ['a', 'b', 'c'][1 + i % 3] AS service, (i % 100)::DOUBLE AS ms FROM range(5000) t(i)" })).result as TableRef;
    const created = await bench.run({ kind: 'clickhouse', credential: 'events', command: 'CREATE TABLE spans (id UInt64, service String, ms Float64) ENGINE = MergeTree ORDER BY id' }, { secrets });
    assert.deepEqual(created.result, { kind: 'none' });
    const inserted = await bench.run({ kind: 'clickhouse', credential: 'events', insert: { table: 'spans', from: '{{ results.spans }}' } }, { secrets, results: { spans } });
    assert.deepEqual(inserted.result, { kind: 'value', value: { table: 'spans', rows: 5000 } });
    // Lineage: the ClickHouse table written (named by host and port, never the credential), fed by the step that made the rows.
    const port = new URL(ch.url).port;
    assert.deepEqual(inserted.lineage.outputs, [{ dataset: { namespace: `clickhouse://127.0.0.1:${port}`, name: 'default.spans' }, schema: spans.schema, rows: 5000 }]);
    assert.equal(inserted.lineage.inputs?.length, 1);
    assert.equal(inserted.lineage.inputs[0]!.dataset.name.endsWith('spans'), true);
    const cmd = { executionId: randomUUID(), playbook: 'd/p', domain: 'd', step: 'load', attempt: 1, tool: { kind: 'clickhouse' }, scope: { workload: {}, execution_id: 'x', results: { spans }, vars: {} }, consumes: {}, upstream: [{ step: 'spans' }], commandId: 'c' } as unknown as StepCommand;
    const event = stepLineage(cmd, 'COMPLETE', new Date().toISOString(), inserted.result, undefined, inserted.lineage);
    assert.deepEqual(openLineageErrors(event), []);
    assert.deepEqual(event.outputs.map((o) => `${o.namespace}/${o.name}`), [`clickhouse://127.0.0.1:${port}/default.spans`]);
    assert.equal(event.inputs.length, 1, 'the upstream step and the maker of the rows are one dataset');
    assert.ok(!JSON.stringify(event).includes('default:@'), 'no user or password of the credential in lineage');
    const { result } = await bench.run({ kind: 'clickhouse', credential: 'events', query: "SELECT service, count() AS n, sum(ms) AS total FROM spans WHERE id >= {{ workload.from }} GROUP BY service ORDER BY service" }, { secrets, workload: { from: 0 } });
    const t = result as TableRef;
    assert.equal(t.kind, 'table');
    assert.equal(t.rows, 3);
    const conn = await bench.duck.connect();
    const rows = (await conn.runAndReadAll(`SELECT service, n, total FROM read_parquet('${bench.store.resolve(t.uri)}') ORDER BY service`)).getRowObjectsJson();
    conn.closeSync();
    assert.deepEqual(rows.map((r) => [r.service, Number(r.n)]), [['a', 1667], ['b', 1667], ['c', 1666]]);
  });

  it('binds params as ClickHouse literals: a hostile value stays data, and $n inside quotes is left alone', async () => {
    await bench.run({ kind: 'clickhouse', credential: 'events', command: 'CREATE TABLE notes (id UInt64, note String) ENGINE = MergeTree ORDER BY id' }, { secrets });
    const hostile = "it's \\'; DROP TABLE notes; --";
    await bench.run({ kind: 'clickhouse', credential: 'events', command: 'INSERT INTO notes VALUES ($1, $2), ($3, \'costs $2\')', params: ['{{ workload.id }}', '{{ workload.note }}', 2] }, { secrets, workload: { id: 1, note: hostile } });
    const { result } = await bench.run({ kind: 'clickhouse', credential: 'events', query: 'SELECT id, note FROM notes WHERE note = $1 OR has($2, id) ORDER BY id -- not $3', params: ['{{ workload.note }}', [2]] }, { secrets, workload: { note: hostile } });
    const conn = await bench.duck.connect();
    const rows = (await conn.runAndReadAll(`SELECT id, note FROM read_parquet('${bench.store.resolve((result as TableRef).uri)}') ORDER BY id`)).getRowObjectsJson();
    conn.closeSync();
    assert.deepEqual(rows.map((r) => [Number(r.id), r.note]), [[1, hostile], [2, 'costs $2']]);
    await assert.rejects(bench.run({ kind: 'clickhouse', credential: 'events', query: 'SELECT $2', params: [1] }, { secrets }), /uses \$2 but params has 1 value/);
  });

  it('an empty result is an empty table', async () => {
    const { result } = await bench.run({ kind: 'clickhouse', credential: 'events', query: 'SELECT * FROM spans WHERE id > 999999' }, { secrets });
    assert.equal((result as TableRef).rows, 0);
  });

  it('bad SQL is E_TOOL_SQL with the server\'s message; an unreachable server is E_TOOL_FAILED (retryable)', async () => {
    await assert.rejects(bench.run({ kind: 'clickhouse', credential: 'events', query: 'SELECT nope FROM spans' }, { secrets }), (e: unknown) => e instanceof NoetlError && e.code === 'E_TOOL_SQL' && /nope/.test(e.message));
    await assert.rejects(bench.run({ kind: 'clickhouse', credential: 'events', query: 'SELECT 1' }, { secrets: { events: 'http://default:@127.0.0.1:1/default' } }), (e: unknown) => e instanceof NoetlError && e.code === 'E_TOOL_FAILED' && e.retryable);
  });

  it('needs exactly one of query, command and insert, and a credential', async () => {
    await assert.rejects(bench.run({ kind: 'clickhouse', credential: 'events', query: 'SELECT 1', command: 'SELECT 1' }, { secrets }), /exactly one of query, command or insert/);
    await assert.rejects(bench.run({ kind: 'clickhouse', query: 'SELECT 1' }, { secrets }), /needs "credential"/);
    await assert.rejects(bench.run({ kind: 'clickhouse', credential: 'other', query: 'SELECT 1' }, { secrets }), (e: unknown) => e instanceof NoetlError && e.code === 'E_CREDENTIAL_MISSING');
  });
});
