/**
 * Data passing: a product of N rows (default 5M) through three DuckDB steps
 * by reference (each step reads the previous step's Parquet file in place;
 * events carry only `{uri, schema, rows, bytes, sha256}`), beside the same
 * rows passed as inline JSON results. Targets (issue 5): passing by reference
 * costs under 1% of the steps' own compute, and at least 100x less than
 * inline.
 *
 * By reference, measured two ways: like for like with inline, what the
 * references cost (encoded, decoded, opened as a DuckDB view by the next
 * step); and end to end, the execution's wall time less the steps' own time
 * (what the workers report), which is all orchestration too (commits, bus):
 * an upper bound.
 * Inline, measured as a lower bound: encoding the rows as the JSON a result
 * would carry and decoding them in the next step, once per hop; the bus and
 * the event log (which would have to hold it) are not even counted.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { openRuntime } from '../cli/runtime.ts';
import { loadConfig, type ExecutionEvent, type StepResult } from '../platform/index.ts';
import { freshBenchDatabase } from './fresh-database.ts';
import { report } from './report.ts';

const STEPS = ['make', 'shape', 'total'] as const;

function writeDomain(root: string): void {
  const dir = path.join(root, 'domains', 'bench');
  fs.mkdirSync(path.join(dir, 'playbooks'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'domain.yaml'), 'owners: [bench@example.com]\n');
  fs.writeFileSync(
    path.join(dir, 'playbooks', 'by_reference.yaml'),
    `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: by_reference }
workload: { rows: 1000 }
workflow:
  - step: make
    tool: { kind: duckdb, sql: "SELECT i AS id, (hash(i) % 1000)::INTEGER AS k, i * 0.5 AS v FROM range({{ workload.rows }}) t(i)" }
    next: [{ step: shape }]
  - step: shape
    tool: { kind: duckdb, sql: "SELECT id, k, v * 2 AS v2 FROM make WHERE k >= 0" }
    next: [{ step: total }]
  - step: total
    tool: { kind: duckdb, sql: "SELECT k, count(*) AS n, sum(v2) AS s FROM shape GROUP BY k" }
`,
  );
}

export async function dataPassingBench(rows: number): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'noetl-bench-passing-'));
  writeDomain(root);
  const db = await freshBenchDatabase('noetl_bench_passing');
  const config = loadConfig({ NOETL_HOME: path.join(root, 'home'), NOETL_DOMAINS_DIR: path.join(root, 'domains'), NOETL_DATABASE_URL: db.url, NOETL_LOG_LEVEL: 'error' });
  const rt = await openRuntime(config);
  const events: ExecutionEvent[] = [];
  rt.supervisor.onEvent((e) => events.push(e));
  try {
    process.stdout.write(`data passing: ${rows.toLocaleString('en-US')} rows through ${STEPS.length} steps by reference…\n`);
    const t0 = performance.now();
    const id = await rt.supervisor.startExecution('bench/by_reference', { rows });
    const state = await rt.supervisor.waitFor(id);
    const wallMs = performance.now() - t0;
    if (state.status !== 'completed') throw new Error(`bench/by_reference ${state.status}: ${state.error?.message}`);
    const completed = events.filter((e): e is Extract<ExecutionEvent, { type: 'step.completed' }> => e.executionId === id && e.type === 'step.completed');
    const computeMs = completed.reduce((n, e) => n + e.durationMs, 0);
    const refBytes = completed.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e.result)), 0);
    const passingMs = wallMs - computeMs;

    process.stdout.write('data passing: the same rows as inline JSON…\n');
    const made = state.results.make!;
    if (made.kind !== 'table') throw new Error('make gave no table');
    const inline = await inlineCost(fileURLToPath(made.uri), STEPS.length);
    const refs = await referenceCost(completed.map((e) => e.result), STEPS.length);

    report(
      'data-passing',
      `${rows.toLocaleString('en-US')} rows through ${STEPS.length} DuckDB steps (event log on ${db.kind}); inline JSON is a lower bound (encode + decode only)`,
      [
        { case: "steps' own compute (baseline)", ms: computeMs, 'bytes passed': 0, '% of compute': 100, 'x by reference': computeMs / refs.ms },
        { case: 'by reference: encode + decode + open as a view, per hop', ms: refs.ms, 'bytes passed': refBytes, '% of compute': (100 * refs.ms) / computeMs, 'x by reference': 1 },
        { case: 'by reference, end to end: wall time less compute', ms: passingMs, 'bytes passed': refBytes, '% of compute': (100 * passingMs) / computeMs, 'x by reference': passingMs / refs.ms },
        { case: 'inline JSON: encode + decode per hop', ms: inline.ms, 'bytes passed': inline.bytes, '% of compute': (100 * inline.ms) / computeMs, 'x by reference': inline.ms / refs.ms },
      ],
      { rows, steps: STEPS.length, perStepMs: Object.fromEntries(completed.map((e) => [e.step, e.durationMs])), targets: { byReference: '< 1% of compute', inlineVsReference: '>= 100x' } },
    );
  } finally {
    await rt.close();
    await db.drop();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** What the references alone cost, like for like with inline: encoded, decoded, and opened by the next step as a DuckDB view. */
async function referenceCost(results: StepResult[], hops: number): Promise<{ ms: number }> {
  const duck = await DuckDBInstance.create(':memory:');
  const conn = await duck.connect();
  let ms = 0;
  try {
    for (let hop = 0; hop < hops; hop++) {
      const t0 = performance.now();
      const ref = JSON.parse(JSON.stringify(results[hop])) as StepResult;
      if (ref.kind === 'table') await conn.run(`CREATE OR REPLACE TEMP VIEW upstream AS SELECT * FROM read_parquet('${fileURLToPath(ref.uri)}')`);
      ms += performance.now() - t0;
    }
  } finally {
    conn.closeSync();
    duck.closeSync();
  }
  return { ms };
}

/** The rows of a Parquet file as JSON text, decoded again, once per hop. */
async function inlineCost(file: string, hops: number): Promise<{ ms: number; bytes: number }> {
  const duck = await DuckDBInstance.create(':memory:');
  const conn = await duck.connect();
  let rows: unknown[];
  try {
    rows = (await conn.runAndReadAll(`SELECT * FROM read_parquet('${file}')`)).getRowObjectsJson();
  } finally {
    conn.closeSync();
    duck.closeSync();
  }
  let ms = 0;
  let bytes = 0;
  for (let hop = 0; hop < hops; hop++) {
    const t0 = performance.now();
    const text = JSON.stringify({ kind: 'value', value: rows });
    rows = (JSON.parse(text) as { value: unknown[] }).value;
    ms += performance.now() - t0;
    bytes += text.length;
  }
  return { ms, bytes };
}
