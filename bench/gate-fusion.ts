/**
 * The quality gate's fused query beside one query per check (the way Soda and
 * Great Expectations run checks) and beside a bare scan of the same columns, on
 * one Parquet file, in one run. Target (issue 6): fused ≤ 1.3× the bare scan.
 * The fused case is the gate as it runs: the key's range read from the file's
 * footer, then the one query (uniqueness by bitmap); the whole gate (schema
 * conformance, evaluation) is timed beside it. Uniqueness by a hash table,
 * the form the gate falls back to for keys that are not bounded integers, is
 * shown too.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { bindDistinct, compileChecks, distinctColumns, fusedQuery, parseContract, quoteIdent, sqlLiteral } from '../contracts/index.ts';
import { keyRanges } from '../services/worker/gate/key-ranges.ts';
import { runQualityGate } from '../services/worker/gate/quality-gate.ts';
import { report, timeIt } from './report.ts';

const CONTRACT = `apiVersion: v3.1.0
kind: DataContract
id: bench.orders
version: 1.0.0
status: active
domain: bench
dataProduct: orders
team: { name: bench, members: [{ username: bench, role: owner }] }
schema:
  - name: orders
    properties:
      - { name: order_id, logicalType: integer, required: true, unique: true }
      - { name: customer_id, logicalType: integer }
      - name: status
        logicalType: string
        required: true
        quality: [{ metric: invalidValues, arguments: { validValues: [open, shipped, returned] }, mustBe: 0 }]
      - name: amount
        logicalType: number
        required: true
        logicalTypeOptions: { minimum: 0, maximum: 10000 }
        quality: [{ type: custom, engine: noetl, implementation: { check: statistic, statistic: avg, mustBeBetween: [100, 9000] } }]
      - name: country
        logicalType: string
        logicalTypeOptions: { pattern: "^c[0-9]+$" }
        quality: [{ metric: nullValues, unit: percent, mustBeLessThan: 5 }]
    quality:
      - { metric: rowCount, mustBeGreaterThan: 0 }
`;

export async function gateFusionBench(rows: number, runs: number): Promise<void> {
  const parsed = parseContract(CONTRACT, 'bench.odcs.yaml');
  if (!parsed.contract) throw new Error('bench contract is invalid');
  const plan = compileChecks(parsed.contract);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noetl-bench-'));
  const file = path.join(dir, 'orders.parquet');
  const duck = await DuckDBInstance.create(':memory:');
  const conn = await duck.connect();
  try {
    await conn.run(`COPY (SELECT i AS order_id, hash(i, 'c') % 100000 AS customer_id, ['open','shipped','returned'][1 + (hash(i) % 3)::INTEGER] AS status,
      (hash(i, 'a') % 1000000)::DOUBLE / 100 AS amount, CASE WHEN i % 50 = 0 THEN NULL ELSE 'c' || (i % 40) END AS country
      FROM range(${rows}) t(i)) TO ${sqlLiteral(file)} (FORMAT PARQUET)`);
    const source = `read_parquet(${sqlLiteral(file)})`;
    const columns = parsed.contract.properties.map((p) => quoteIdent(p.name));
    const schema = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)).getRowObjectsJson().map((r) => ({ name: r.column_name as string, type: r.column_type as string }));
    const actual = { kind: 'table' as const, uri: `file://${file}`, format: 'parquet' as const, schema, rows, bytes: fs.statSync(file).size, sha256: '' };
    const bare = `SELECT sum(hash(${columns.join(', ')})) FROM ${source}`;
    if (plan.checks.length !== 10) throw new Error(`the bench contract should compile to ten checks, not ${plan.checks.length}`);
    const ranges = await keyRanges(conn, file, schema, distinctColumns(plan));
    if (!ranges.order_id) throw new Error('the footer should bound order_id');
    const perCheck = [...plan.expressions].map(([, expr]) => `SELECT ${bindDistinct(expr, ranges)} FROM ${source}`);
    await conn.run(bare); // warm the file cache
    const tBare = await timeIt(runs, () => conn.run(bare).then(() => undefined));
    const tFused = await timeIt(runs, async () => {
      await conn.run(fusedQuery(plan, source, await keyRanges(conn, file, schema, distinctColumns(plan))));
    });
    const tGate = await timeIt(runs, async () => {
      const o = await runQualityGate(conn, parsed.contract!, { file, actual, refs: {}, previous: undefined });
      if (!o.passed) throw new Error('the bench data should pass its gate');
    });
    const tEach = await timeIt(runs, async () => {
      for (const q of perCheck) await conn.run(q);
    });
    const uniqueBy = (ranged: boolean): string => `SELECT count(order_id) - ${bindDistinct(plan.expressions.get(plan.checks.find((c) => c.id === 'order_id.unique')!.metric!)!.replace(/^count\("order_id"\) - /, ''), ranged ? ranges : {})} FROM ${source}`;
    const tHash = await timeIt(runs, () => conn.run(uniqueBy(false)).then(() => undefined));
    const tBitmap = await timeIt(runs, () => conn.run(uniqueBy(true)).then(() => undefined));
    const x = (ms: number): number => ms / tBare.median;
    report('gate-fusion', `${plan.checks.length} checks (${plan.expressions.size} aggregates) over ${rows.toLocaleString('en-US')} rows of Parquet, median of ${runs}`, [
      { case: 'bare scan of the same columns (baseline)', ms: tBare.median, 'x baseline': 1 },
      { case: 'fused: footer + all checks in one query', ms: tFused.median, 'x baseline': x(tFused.median) },
      { case: 'the whole gate (conformance, fused query, evaluation)', ms: tGate.median, 'x baseline': x(tGate.median) },
      { case: 'one query per check', ms: tEach.median, 'x baseline': x(tEach.median) },
      { case: '(uniqueness alone, by bitmap)', ms: tBitmap.median, 'x baseline': x(tBitmap.median) },
      { case: '(uniqueness alone, by hash table: keys without bounds)', ms: tHash.median, 'x baseline': x(tHash.median) },
    ], { rows, checks: plan.checks.length, target: 'fused <= 1.3x bare scan' });
  } finally {
    conn.closeSync();
    duck.closeSync();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
