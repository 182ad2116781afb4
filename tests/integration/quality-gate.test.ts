/** The quality gate on real Parquet files through real DuckDB: clean data passes, each planted defect is caught. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { compileChecks, fusedQuery, parseContract, sqlLiteral, type Contract } from '../../contracts/index.ts';
import { LocalArtifactStore } from '../../platform/index.ts';
import { describeParquet } from '../../services/worker/tools/index.ts';
import { describeGateFailure, fusedValues, runQualityGate } from '../../services/worker/gate/quality-gate.ts';
import { keyRanges } from '../../services/worker/gate/key-ranges.ts';
import { tempDir } from '../helpers/workspace.ts';

const CONTRACT = `apiVersion: v3.1.0
kind: DataContract
id: shop.orders
version: 1.0.0
status: active
domain: shop
dataProduct: orders
team: { name: shop, members: [{ username: shop@example.com, role: owner }] }
schema:
  - name: orders
    properties:
      - { name: order_id, logicalType: integer, required: true, unique: true }
      - name: status
        logicalType: string
        required: true
        quality: [{ metric: invalidValues, arguments: { validValues: [open, shipped] }, mustBe: 0 }]
      - { name: amount, logicalType: number, logicalTypeOptions: { minimum: 0, maximum: 1000 } }
      - name: note
        logicalType: string
        quality: [{ metric: nullValues, unit: percent, mustBeLessThan: 10, severity: warning }]
    quality:
      - { metric: rowCount, mustBeBetween: [100, 100000] }
`;

const CLEAN = `SELECT i::BIGINT AS order_id, CASE WHEN i % 2 = 0 THEN 'open' ELSE 'shipped' END AS status, (i % 900)::DOUBLE AS amount, 'n' || i AS note FROM range(1, 1001) t(i)`;

describe('quality gate on real Parquet', () => {
  let duck: DuckDBInstance;
  let conn: DuckDBConnection;
  let store: LocalArtifactStore;
  let contract: Contract;
  let n = 0;

  before(async () => {
    duck = await DuckDBInstance.create(':memory:');
    conn = await duck.connect();
    store = new LocalArtifactStore(tempDir());
    const parsed = parseContract(CONTRACT, 'orders.odcs.yaml');
    assert.deepEqual(parsed.diagnostics, []);
    contract = parsed.contract!;
  });
  after(() => {
    conn.closeSync();
    duck.closeSync();
  });

  async function gate(query: string) {
    const file = store.stagingPath('exec', `s${++n}`, 1);
    await conn.run(`COPY (${query}) TO ${sqlLiteral(file)} (FORMAT PARQUET)`);
    const ref = await describeParquet(conn, store, file);
    return runQualityGate(conn, contract, { file, actual: ref, refs: {}, previous: undefined });
  }

  const failedIds = (o: Awaited<ReturnType<typeof gate>>): string[] => o.checks.filter((c) => !c.passed).map((c) => c.id);

  it('passes clean data on every check', async () => {
    const o = await gate(CLEAN);
    assert.equal(o.passed, true);
    assert.deepEqual(failedIds(o), []);
    assert.deepEqual(o.conformance, []);
    assert.equal(o.checks.length, 7);
  });

  const defects: [string, string, string][] = [
    ['a null in a required column', `SELECT * REPLACE (CASE WHEN order_id = 7 THEN NULL ELSE status END AS status) FROM (${CLEAN})`, 'status.required'],
    ['a duplicate key', `SELECT * REPLACE (CASE WHEN order_id = 8 THEN 9 ELSE order_id END AS order_id) FROM (${CLEAN})`, 'order_id.unique'],
    ['a value outside the accepted set', `SELECT * REPLACE (CASE WHEN order_id = 3 THEN 'lost' ELSE status END AS status) FROM (${CLEAN})`, 'status.invalidValues.0'],
    ['a number out of range', `SELECT * REPLACE (CASE WHEN order_id = 5 THEN -1 ELSE amount END AS amount) FROM (${CLEAN})`, 'amount.range'],
    ['too few rows', `SELECT * FROM (${CLEAN}) WHERE order_id <= 50`, 'orders.rowCount.0'],
  ];
  for (const [what, query, check] of defects) {
    it(`catches ${what} (${check}) and only that`, async () => {
      const o = await gate(query);
      assert.equal(o.passed, false);
      assert.deepEqual(failedIds(o), [check]);
    });
  }

  it('reports the observed min and max of a range check', async () => {
    const o = await gate(`SELECT * REPLACE (CASE WHEN order_id = 5 THEN 5000 ELSE amount END AS amount) FROM (${CLEAN})`);
    const range = o.checks.find((c) => c.id === 'amount.range')!;
    assert.equal(range.observed, 1);
    assert.deepEqual(range.extras, { min: 0, max: 5000 });
    const message = describeGateFailure('shop.orders', o);
    assert.match(message, /shop\.orders: check amount\.range on column "amount": .*expected = 0, observed 1 \(min 0, max 5000\)/);
  });

  it('reads an integer key\'s range from the Parquet footer, and only for integer columns with statistics in every row group', async () => {
    const file = store.stagingPath('exec', `s${++n}`, 1);
    await conn.run(`COPY (SELECT i * 3 + 5 AS k, 'x' || i AS s, i::DOUBLE AS d FROM range(200000) t(i)) TO ${sqlLiteral(file)} (FORMAT PARQUET, ROW_GROUP_SIZE 50000)`);
    const ref = await describeParquet(conn, store, file);
    assert.deepEqual(await keyRanges(conn, file, ref.schema, ['k', 's', 'd', 'absent']), { k: { min: 5n, max: 600_002n } });
  });

  it('finds a duplicate key by bitmap across row groups, the range coming from the file', async () => {
    // Many row groups, the duplicate's twin in another one: the bitmap must see the whole file.
    const file = store.stagingPath('exec', `s${++n}`, 1);
    await conn.run(`COPY (SELECT * REPLACE (CASE WHEN order_id = 99000 THEN 17 ELSE order_id END AS order_id) FROM (${CLEAN.replace('range(1, 1001)', 'range(1, 100001)')})) TO ${sqlLiteral(file)} (FORMAT PARQUET, ROW_GROUP_SIZE 10000)`);
    const ref = await describeParquet(conn, store, file);
    const ranges = await keyRanges(conn, file, ref.schema, ['order_id']);
    assert.deepEqual(ranges, { order_id: { min: 1n, max: 100000n } });
    // The bitmap form itself, on real DuckDB (the gate would fall back to count(DISTINCT) if it failed).
    const plan = compileChecks(contract);
    const sql = fusedQuery(plan, `read_parquet(${sqlLiteral(file)})`, ranges);
    assert.match(sql, /bitstring_agg/);
    const metric = plan.checks.find((c) => c.id === 'order_id.unique')!.metric!;
    assert.equal(Number((await conn.runAndReadAll(sql)).getRowObjects()[0]![metric]), 1);
    const o = await runQualityGate(conn, contract, { file, actual: ref, refs: {}, previous: undefined });
    const unique = o.checks.find((c) => c.id === 'order_id.unique')!;
    assert.equal(unique.passed, false);
    assert.equal(unique.observed, 1);
  });

  it('counts the ordinary way when a file\'s statistics do not hold (a key outside the range they give)', async () => {
    const file = store.stagingPath('exec', `s${++n}`, 1);
    await conn.run(`COPY (SELECT * REPLACE (CASE WHEN order_id = 8 THEN 9 ELSE order_id END AS order_id) FROM (${CLEAN})) TO ${sqlLiteral(file)} (FORMAT PARQUET)`);
    const plan = compileChecks(contract);
    const metric = plan.checks.find((c) => c.id === 'order_id.unique')!.metric!;
    // As if the footer claimed 1..500 for keys that reach 1,000: the bitmap refuses, the hash table answers.
    const values = await fusedValues(conn, plan, `read_parquet(${sqlLiteral(file)})`, { order_id: { min: 1n, max: 500n } });
    assert.equal(Number(values[metric]), 1);
  });

  it('measures extras only for checks that fail', async () => {
    const o = await gate(CLEAN);
    assert.deepEqual(o.checks.find((c) => c.id === 'amount.range')!.extras, {});
  });

  it('records a failing warning without blocking', async () => {
    const o = await gate(`SELECT * REPLACE (CASE WHEN order_id % 4 = 0 THEN NULL ELSE note END AS note) FROM (${CLEAN})`);
    assert.equal(o.passed, true);
    assert.deepEqual(failedIds(o), ['note.nullValues.0']);
    assert.equal(o.checks.find((c) => c.id === 'note.nullValues.0')!.observed, 25);
  });

  it('fails on a missing column or a wrong type, and still runs the other checks', async () => {
    const o = await gate(`SELECT order_id::VARCHAR AS order_id, status, note FROM (${CLEAN})`);
    assert.equal(o.passed, false);
    assert.deepEqual(o.conformance.map((p) => [p.column, p.observed]), [['order_id', 'VARCHAR'], ['amount', 'missing']]);
    assert.ok(!o.checks.some((c) => c.id === 'amount.range'), 'no check runs on a missing column');
    assert.ok(o.checks.some((c) => c.id === 'status.required' && c.passed));
  });

  it('references carry schema, rows, bytes and checksum, never rows themselves', async () => {
    const file = store.stagingPath('exec', 'ref', 1);
    await conn.run(`COPY (${CLEAN}) TO ${sqlLiteral(file)} (FORMAT PARQUET)`);
    const ref = await describeParquet(conn, store, file);
    assert.equal(ref.rows, 1000);
    assert.ok(ref.bytes > 0);
    assert.match(ref.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual(ref.schema.map((c) => c.name), ['order_id', 'status', 'amount', 'note']);
    assert.deepEqual(Object.keys(ref).sort(), ['bytes', 'format', 'kind', 'rows', 'schema', 'sha256', 'uri']);
    assert.equal(path.relative(store.root, store.resolve(ref.uri)), path.join('staging', 'exec', 'ref.1', 'output.parquet'));
  });
});
