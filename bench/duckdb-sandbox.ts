/**
 * DuckDB sandbox: what a database of each command's own costs a duckdb step.
 * The same small step (a query with a bound template value over an earlier
 * step's table, written as Parquet) through the duckdb tool: on one database
 * shared by every command (how steps ran before the sandbox, the baseline); on
 * a fresh locked-down database per command taken from the warm pool the worker
 * keeps; and on one created on demand (no pool). Cases take turns run by run,
 * so drift hits them alike.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { createLogger, LocalArtifactStore, type StepCommand, type TableRef } from '../platform/index.ts';
import { commandAccess } from '../services/worker/sandbox/command-access.ts';
import { DuckDbSandbox } from '../services/worker/sandbox/duckdb-sandbox.ts';
import { TOOLS, type ToolContext } from '../services/worker/tools/index.ts';
import { report } from './report.ts';

const SQL = 'SELECT i, i * {{ workload.factor }} AS j FROM upstream WHERE i % 3 = 0';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

export async function duckdbSandboxBench(runs: number): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'noetl-bench-duckdb-'));
  const store = new LocalArtifactStore(root);
  const shared = await DuckDBInstance.create(':memory:');
  const upstream = await seed(store, shared);
  const warm = new DuckDbSandbox();
  const cold = new DuckDbSandbox(0);
  await warm.warm();
  let step = 0;
  const runStep = (open: (cmd: StepCommand, outputPath: string) => Promise<{ db: DuckDBInstance; done: () => void }>) => async (): Promise<void> => {
    const name = `s${++step}`;
    const command = {
      commandId: name, executionId: 'bench', playbook: 'bench/duckdb', domain: 'bench', step: name, attempt: 1, tool: { kind: 'duckdb', sql: SQL },
      scope: { workload: { factor: 2 }, execution_id: 'bench', results: { upstream }, vars: {} }, consumes: {}, upstream: [], produces: undefined,
    } as unknown as StepCommand;
    const outputPath = store.stagingPath('bench', name, 1);
    const { db, done } = await open(command, outputPath);
    try {
      await TOOLS.get('duckdb')!.run(context(command, store, db, outputPath));
    } finally {
      done();
    }
  };
  const cases: [string, () => Promise<void>][] = [
    ['one database shared by every command (before the sandbox)', runStep(() => Promise.resolve({ db: shared, done: () => undefined }))],
    ['a database of its own, from the warm pool (as workers run)', runStep(async (cmd, out) => {
      const db = await warm.open(commandAccess(cmd, store, out));
      return { db, done: () => warm.release(db) };
    })],
    ['a database of its own, created on demand', runStep(async (cmd, out) => {
      const db = await cold.open(commandAccess(cmd, store, out));
      return { db, done: () => db.closeSync() };
    })],
  ];
  const times = new Map(cases.map(([name]) => [name, [] as number[]]));
  for (const [, fn] of cases) await fn();
  for (let i = 0; i < runs; i++) {
    for (const [name, fn] of cases) {
      const t0 = performance.now();
      await fn();
      times.get(name)!.push(performance.now() - t0);
      // Let the pool refill between steps, as the gaps between a worker's commands do.
      await new Promise((r) => setTimeout(r, 15));
    }
  }
  await warm.close();
  shared.closeSync();
  fs.rmSync(root, { recursive: true, force: true });
  const base = percentile([...times.get(cases[0]![0])!].sort((a, b) => a - b), 0.5);
  report(
    'duckdb-sandbox',
    `a small duckdb step (${SQL}) through the duckdb tool, ${runs} runs each`,
    cases.map(([name]) => {
      const sorted = [...times.get(name)!].sort((a, b) => a - b);
      const p50 = percentile(sorted, 0.5);
      return { case: name, 'p50 ms': p50, 'p95 ms': percentile(sorted, 0.95), '+ ms over shared': p50 - base };
    }),
    { runs },
  );
}

/** An earlier step's table the measured step reads (10,000 rows of Parquet). */
async function seed(store: LocalArtifactStore, db: DuckDBInstance): Promise<TableRef> {
  const file = store.stagingPath('bench', 'upstream', 1);
  const conn = await db.connect();
  try {
    await conn.run(`COPY (SELECT i FROM range(10000) t(i)) TO '${file}' (FORMAT PARQUET)`);
  } finally {
    conn.closeSync();
  }
  const { bytes, sha256 } = await store.fingerprint(file);
  return { kind: 'table', uri: store.uriOf(file), format: 'parquet', schema: [{ name: 'i', type: 'BIGINT' }], rows: 10_000, bytes, sha256 };
}

function context(command: StepCommand, store: LocalArtifactStore, db: DuckDBInstance, outputPath: string): ToolContext {
  return {
    signal: new AbortController().signal,
    heartbeat: () => undefined,
    log: createLogger({ level: 'error' }),
    command,
    artifacts: store,
    duckdb: () => db.connect(),
    outputPath,
    lineage: {},
    output: {},
    secrets: [],
    python: 'python3',
    pythonSandbox: 'bwrap',
    httpAllow: [],
    credential: () => {
      throw new Error('no credentials in this bench');
    },
  };
}
