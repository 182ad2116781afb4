/**
 * Every kind of check on real Parquet through DuckDB: clean data passes all of
 * them, and each planted defect is caught by its own check (and only by it).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { compileChecks, parseContract, sqlLiteral, type Contract } from '../../contracts/index.ts';
import { LocalArtifactStore } from '../../platform/index.ts';
import { describeParquet } from '../../services/worker/tools/index.ts';
import { runQualityGate } from '../../services/worker/gate/quality-gate.ts';
import { tempDir } from '../helpers/workspace.ts';

const NOW = new Date('2026-06-01T12:00:00Z');

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
    customProperties: [{ property: enforceColumnOrder, value: true }]
    properties:
      - { name: order_id, logicalType: integer, required: true, primaryKey: true, primaryKeyPosition: 1 }
      - { name: line, logicalType: integer, required: true, primaryKey: true, primaryKeyPosition: 2 }
      - name: customer_id
        logicalType: integer
        required: true
        relationships: [{ type: foreignKey, to: customers.customer_id }]
      - { name: email, logicalType: string, classification: PII, logicalTypeOptions: { format: email } }
      - { name: sku, logicalType: string, required: true, logicalTypeOptions: { pattern: "^SKU-[0-9]+$", minLength: 8, maxLength: 8 } }
      - name: amount
        logicalType: number
        required: true
        logicalTypeOptions: { minimum: 0, maximum: 1000 }
        quality:
          - { type: custom, engine: noetl, implementation: { check: statistic, statistic: avg, mustBeBetween: [100, 400] } }
          - { type: custom, engine: noetl, implementation: { check: drift, mustBeLessThan: 0.2 } }
      - { name: ordered_at, logicalType: timestamp, required: true }
    quality:
      - { metric: rowCount, mustBeBetween: [100, 100000] }
      - { name: refunds are negative, type: sql, query: "SELECT count(*) FROM \${table} WHERE amount = 0", mustBe: 0 }
      - { name: no future orders, type: custom, engine: noetl, implementation: { check: failingRows, query: "SELECT * FROM \${table} WHERE ordered_at > TIMESTAMP '2026-06-01 12:00:00'" } }
      - { type: custom, engine: noetl, implementation: { check: rowCountComparison, product: shop.customers, mustBeLessOrEqualTo: 5 } }
slaProperties:
  - { property: freshness, value: 24, unit: h, element: orders.ordered_at }
`;

const CLEAN = `SELECT (i // 2)::BIGINT AS order_id, (i % 2)::BIGINT AS line, (i % 300)::BIGINT AS customer_id,
  'buyer' || i || '@example.com' AS email, 'SKU-' || lpad((i % 10000)::VARCHAR, 4, '0') AS sku,
  (50 + (i * 37) % 400)::DOUBLE AS amount, TIMESTAMP '2026-06-01 06:00:00' - INTERVAL (i % 600) MINUTE AS ordered_at
  FROM range(1, 1001) t(i)`;

describe('every check kind on real Parquet', () => {
  let duck: DuckDBInstance;
  let conn: DuckDBConnection;
  let store: LocalArtifactStore;
  let contract: Contract;
  let customers: { file: string; rows: number };
  let previous: string;
  let n = 0;

  const write = async (query: string): Promise<string> => {
    const file = store.stagingPath('exec', `s${++n}`, 1);
    await conn.run(`COPY (${query}) TO ${sqlLiteral(file)} (FORMAT PARQUET)`);
    return file;
  };

  before(async () => {
    duck = await DuckDBInstance.create(':memory:');
    conn = await duck.connect();
    store = new LocalArtifactStore(tempDir());
    const parsed = parseContract(CONTRACT, 'orders.odcs.yaml');
    assert.deepEqual(parsed.diagnostics, []);
    contract = parsed.contract!;
    customers = { file: await write('SELECT range AS customer_id FROM range(300)'), rows: 300 };
    previous = await write(CLEAN);
  });
  after(() => {
    conn.closeSync();
    duck.closeSync();
  });

  async function gate(query: string, opts: { previous?: string | undefined } = {}) {
    const file = await write(query);
    const actual = await describeParquet(conn, store, file);
    return runQualityGate(conn, contract, { file, actual, refs: { customers, 'shop.customers': customers }, previous: 'previous' in opts ? opts.previous : previous, now: NOW });
  }
  const failed = (o: Awaited<ReturnType<typeof gate>>): string[] => [...o.conformance.filter((p) => p.severity === 'error').map((p) => `schema:${p.column}`), ...o.checks.filter((c) => !c.passed).map((c) => c.id)];

  it('passes clean data on every check, one fused scan plus the checks that read other tables', async () => {
    const o = await gate(CLEAN);
    assert.deepEqual(failed(o), []);
    assert.equal(o.passed, true);
    const plan = compileChecks(contract);
    assert.equal(plan.checks.filter((c) => c.query !== undefined).length, 4, 'relationship, drift, sql, failing rows run on their own');
    assert.ok(plan.checks.filter((c) => c.metric !== undefined).length >= 12);
    assert.equal(o.checks.find((c) => c.id === 'amount.drift.1')!.observed, 0);
  });

  it('skips drift on a first publish, without blocking', async () => {
    const o = await gate(CLEAN, { previous: undefined });
    const drift = o.checks.find((c) => c.id === 'amount.drift.1')!;
    assert.equal(drift.skipped, 'no previous version to compare with');
    assert.equal(o.passed, true);
  });

  // Drift compares with the previous version, so defects that move a distribution run as first publishes.
  const defects: [string, string, string, { previous?: undefined }?][] = [
    ['a regex mismatch', `SELECT * REPLACE (CASE WHEN i = 7 THEN 'SKU-12A4' ELSE sku END AS sku) FROM (${CLEAN.replace('FROM range', ', i AS i FROM range')})`, 'sku.pattern'],
    ['a bad e-mail (format)', `SELECT * REPLACE (CASE WHEN order_id = 3 AND line = 0 THEN 'not-an-email' ELSE email END AS email) FROM (${CLEAN})`, 'email.pattern'],
    ['a value too long', `SELECT * REPLACE (CASE WHEN order_id = 4 AND line = 0 THEN 'SKU-12345' ELSE sku END AS sku) FROM (${CLEAN})`, 'sku.length'],
    ['a duplicate compound key', `SELECT * REPLACE (CASE WHEN order_id = 9 THEN 0 ELSE line END AS line) FROM (${CLEAN})`, 'primary_key.unique'],
    ['an orphan foreign key', `SELECT * REPLACE (CASE WHEN order_id = 5 AND line = 1 THEN 99999 ELSE customer_id END AS customer_id) FROM (${CLEAN})`, 'customer_id.references.0'],
    ['a shifted average', `SELECT * REPLACE (amount / 4 AS amount) FROM (${CLEAN})`, 'amount.statistic.0', { previous: undefined }],
    ['stale data (freshness)', `SELECT * REPLACE (ordered_at - INTERVAL 3 DAY AS ordered_at) FROM (${CLEAN})`, 'ordered_at.freshness'],
    ['a custom SQL metric', `SELECT * REPLACE (CASE WHEN order_id = 6 THEN 0 ELSE amount END AS amount) FROM (${CLEAN})`, 'orders.sql.1'],
    ['rows a custom query flags', `SELECT * REPLACE (CASE WHEN order_id = 8 THEN TIMESTAMP '2026-07-01 00:00:00' ELSE ordered_at END AS ordered_at) FROM (${CLEAN})`, 'orders.failingRows.2'],
    ['too many rows relative to another product', `SELECT * FROM (${CLEAN}) UNION ALL SELECT * REPLACE (order_id + 100000 AS order_id) FROM (${CLEAN})`, 'orders.rowCountComparison.3'],
  ];
  for (const [what, query, check, opts] of defects) {
    it(`catches ${what} with ${check}, and only that`, async () => {
      const o = await gate(query, opts);
      assert.deepEqual(failed(o), [check]);
      assert.equal(o.passed, false);
    });
  }

  it('reports drift from the previous version (a warning would not block; this rule is an error)', async () => {
    const o = await gate(`SELECT * REPLACE (CASE WHEN order_id < 400 THEN 990 ELSE amount END AS amount) FROM (${CLEAN})`);
    const drift = o.checks.find((c) => c.id === 'amount.drift.1')!;
    assert.equal(drift.passed, false);
    assert.ok(drift.observed! > 0.2, String(drift.observed));
  });

  it('enforces column order when the contract asks', async () => {
    const o = await gate(`SELECT line, order_id, customer_id, email, sku, amount, ordered_at FROM (${CLEAN})`);
    assert.deepEqual(failed(o), ['schema:*']);
  });

  it('samples the rows a failing-rows query returns, key columns only', async () => {
    const o = await gate(`SELECT * REPLACE (CASE WHEN order_id IN (8, 9) THEN TIMESTAMP '2026-07-01 00:00:00' ELSE ordered_at END AS ordered_at) FROM (${CLEAN})`);
    const c = o.checks.find((x) => x.id === 'orders.failingRows.2')!;
    assert.equal(c.observed, 4);
    assert.deepEqual(c.samples!.map((s) => `${String(s.order_id)}/${String(s.line)}`).sort(), ['8/0', '8/1', '9/0', '9/1']);
  });

  it('shows at most five failing rows, key columns only, never PII', async () => {
    const o = await gate(`SELECT * REPLACE (CASE WHEN order_id < 20 THEN 'bad' ELSE email END AS email) FROM (${CLEAN})`);
    const c = o.checks.find((x) => x.id === 'email.pattern')!;
    assert.equal(c.passed, false);
    assert.equal(c.samples!.length, 5);
    for (const s of c.samples!) assert.deepEqual(Object.keys(s).sort(), ['line', 'order_id'], 'the PII column itself is not shown');
  });
});
