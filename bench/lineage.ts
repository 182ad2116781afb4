/**
 * Lineage at scale: a synthetic graph of 100,000 datasets and ~300,000 edges in
 * PostgreSQL. Upstream and downstream query latency at depth 5, 10 and 20 (p50,
 * p99, default budgets) beside a one-level neighbour lookup measured in the same
 * run; ingestion through the HTTP API, one event per request vs batches.
 * Targets (issue 7): depth 10 p50 ≤ 20 ms and p99 ≤ 100 ms; batch ≥ 5,000 events/s.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { createLogger, lineage, migrate } from '../platform/index.ts';
import { buildApp } from '../services/registry/index.ts';
import { freshBenchDatabase } from './fresh-database.ts';
import { report } from './report.ts';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

function event(i: number): Record<string, unknown> {
  return {
    eventType: 'COMPLETE',
    eventTime: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
    producer: 'https://example.com/bench',
    schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
    run: { runId: randomUUID() },
    job: { namespace: 'bench://ingest', name: `job${i % 500}` },
    inputs: [{ namespace: 'bench://ingest', name: `in${i % 2000}` }, { namespace: 'bench://ingest', name: `in${(i * 7) % 2000}` }],
    outputs: [{ namespace: 'bench://ingest', name: `out${i % 3000}` }],
  };
}

export async function lineageBench(datasets: number, samples: number): Promise<void> {
  const fresh = await freshBenchDatabase('noetl_bench_lineage');
  const database = await fresh.open();
  const kind = fresh.kind;
  try {
    await migrate(database);
    const db = database.db;
    const t0 = performance.now();
    await sql`INSERT INTO lineage_datasets SELECT 'bench://ds', 'd' || i, '{}', now(), now() FROM generate_series(0, ${datasets - 1}) AS i`.execute(db);
    // Each dataset feeds three datasets among the next thousand: a wide, deep DAG.
    await sql`INSERT INTO lineage_edges
      SELECT 'bench://ds', 'd' || i, 'bench://job', 'j' || i, 'bench://ds', 'd' || (i + 1 + abs(hashtext(i || ':' || k)) % 1000), now(), now()
      FROM generate_series(0, ${datasets - 1}) AS i, generate_series(0, 2) AS k
      WHERE i + 1 + abs(hashtext(i || ':' || k)) % 1000 < ${datasets}
      ON CONFLICT DO NOTHING`.execute(db);
    await sql`ANALYZE lineage_edges`.execute(db);
    const edges = Number((await sql<{ n: string }>`SELECT count(*) AS n FROM lineage_edges`.execute(db)).rows[0]!.n);
    const loadMs = performance.now() - t0;
    const starts = Array.from({ length: samples }, (_, i) => ({ namespace: 'bench://ds', name: `d${Math.floor(((i * 7919) % 1000) / 1000 * (datasets - 2000)) + 1000}` }));
    const time = async (f: (s: { namespace: string; name: string }) => Promise<unknown>): Promise<{ p50: number; p99: number }> => {
      const ms: number[] = [];
      for (const s of starts) {
        const t = performance.now();
        await f(s);
        ms.push(performance.now() - t);
      }
      ms.sort((a, b) => a - b);
      return { p50: percentile(ms, 0.5), p99: percentile(ms, 0.99) };
    };
    const rows = [];
    const base = await time((s) => sql`SELECT dst_namespace, dst_name FROM lineage_edges WHERE src_namespace = ${s.namespace} AND src_name = ${s.name}`.execute(db));
    rows.push({ case: 'one-level neighbour lookup (baseline)', 'p50 ms': base.p50, 'p99 ms': base.p99, 'events/s': '' });
    for (const direction of ['upstream', 'downstream'] as const) {
      for (const depth of [5, 10, 20]) {
        const t = await time((s) => lineage(db, s, { direction, depth }));
        rows.push({ case: `${direction}, depth ${depth}`, 'p50 ms': t.p50, 'p99 ms': t.p99, 'events/s': '' });
      }
    }
    const app = await buildApp({ db, log: createLogger({ level: 'error' }), mode: 'distributed' });
    try {
      const single = 500;
      let t = performance.now();
      for (let i = 0; i < single; i++) await app.inject({ method: 'POST', url: '/api/v1/lineage', payload: event(i) });
      rows.push({ case: `ingest one event per request (${single})`, 'p50 ms': '', 'p99 ms': '', 'events/s': Math.round(single / ((performance.now() - t) / 1000)) });
      const batches = 10;
      const size = 1000;
      t = performance.now();
      for (let b = 0; b < batches; b++) {
        const body = Array.from({ length: size }, (_, i) => JSON.stringify(event(100_000 + b * size + i))).join('\n');
        const res = await app.inject({ method: 'POST', url: '/api/v1/lineage/batch', payload: body, headers: { 'content-type': 'application/x-ndjson' } });
        if (res.statusCode !== 200) throw new Error(`batch ingest failed: ${res.body}`);
      }
      rows.push({ case: `ingest batches of ${size} (NDJSON, ${batches * size})`, 'p50 ms': '', 'p99 ms': '', 'events/s': Math.round((batches * size) / ((performance.now() - t) / 1000)) });
    } finally {
      await app.close();
    }
    report('lineage', `${datasets.toLocaleString('en-US')} datasets, ${edges.toLocaleString('en-US')} edges on ${kind} (loaded in ${Math.round(loadMs)} ms); ${samples} start nodes; default budgets (1,000 nodes, 200 per node)`, rows, {
      datasets,
      edges,
      targets: { depth10: 'p50 <= 20 ms, p99 <= 100 ms', batchIngest: '>= 5000 events/s' },
    });
  } finally {
    await database.close();
    await fresh.drop();
  }
}
