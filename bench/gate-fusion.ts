/**
 * The quality gate's fused query beside one query per check (the way Soda and
 * Great Expectations run checks) and beside a bare scan of the same columns, on
 * one Parquet file, in one run. Target (issue 6): fused ≤ 1.3× the bare scan.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { compileChecks, fusedQuery, parseContract, quoteIdent, sqlLiteral } from '../contracts/index.ts';
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
    const bare = `SELECT sum(hash(${columns.join(', ')})) FROM ${source}`;
    const fused = fusedQuery(plan, source);
    const perCheck = [...plan.expressions].map(([, expr]) => `SELECT ${expr} FROM ${source}`);
    if (plan.checks.length !== 10) throw new Error(`the bench contract should compile to ten checks, not ${plan.checks.length}`);
    await conn.run(bare); // warm the file cache
    const tBare = await timeIt(runs, () => conn.run(bare).then(() => undefined));
    const tFused = await timeIt(runs, () => conn.run(fused).then(() => undefined));
    const tEach = await timeIt(runs, async () => {
      for (const q of perCheck) await conn.run(q);
    });
    // Uniqueness needs a hash table of every key, whatever the plan: measured on its own too.
    const unique = `SELECT count(order_id) - count(DISTINCT order_id) FROM ${source}`;
    const tUnique = await timeIt(runs, () => conn.run(unique).then(() => undefined));
    report('gate-fusion', `${plan.checks.length} checks (${plan.expressions.size} aggregates) over ${rows.toLocaleString('en-US')} rows of Parquet, median of ${runs}`, [
      { case: 'bare scan of the same columns (baseline)', ms: tBare.median, 'x baseline': 1 },
      { case: 'fused: all checks in one query', ms: tFused.median, 'x baseline': tFused.median / tBare.median },
      { case: 'one query per check', ms: tEach.median, 'x baseline': tEach.median / tBare.median },
      { case: '(the uniqueness check alone)', ms: tUnique.median, 'x baseline': tUnique.median / tBare.median },
    ], { rows, checks: plan.checks.length, target: 'fused <= 1.3x bare scan' });
  } finally {
    conn.closeSync();
    duck.closeSync();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
