/**
 * Both deployment modes run the shipped domains to the same results: every
 * playbook built in the embedded mode (one process, PGlite, in-process bus)
 * and in the distributed mode (a server and two worker processes over a
 * nats-server of the test's own and PostgreSQL); each product's published
 * rows are then compared with DuckDB, both ways.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { buildAll } from '../../cli/commands/dev.ts';
import { openRuntime } from '../../cli/runtime.ts';
import { loadConfig, type Db, type Schema } from '../../platform/index.ts';
import { freePort, startNatsServer, type TestNatsServer } from '../helpers/nats-server.ts';
import { freshPostgres, type FreshDatabase } from '../helpers/postgres.ts';
import { spawnNoetl, type NoetlProcess } from '../helpers/processes.ts';
import { workspace } from '../helpers/workspace.ts';

/** Product id → the file of its current version. */
async function currentVersions(db: Db): Promise<Map<string, string>> {
  const rows = await db.selectFrom('products as p').innerJoin('materializations as m', 'm.id', 'p.current_materialization_id').select(['p.id', 'm.artifact_uri']).execute();
  return new Map(rows.map((r) => [r.id, fileURLToPath(r.artifact_uri)]));
}

describe('the embedded and the distributed mode build the shipped domains to the same products', () => {
  const ws = workspace();
  let nats: TestNatsServer;
  let catalog: FreshDatabase;
  const procs: NoetlProcess[] = [];
  const embedded = new Map<string, string>();
  const distributed = new Map<string, string>();

  before(async () => {
    [nats, catalog] = await Promise.all([startNatsServer(), freshPostgres()]);
  });

  after(async () => {
    for (const p of procs) await p.kill('SIGKILL');
    await nats?.stop();
    await catalog?.drop();
    ws.cleanup();
  });

  it('embedded: builds every playbook', async () => {
    const rt = await openRuntime(loadConfig({ NOETL_HOME: path.join(ws.home, 'embedded'), NOETL_DOMAINS_DIR: ws.domains, NOETL_LOG_LEVEL: 'error' }));
    try {
      const results = await buildAll(rt, () => undefined);
      assert.ok(results.every((r) => r.state.status === 'completed'));
      for (const [id, file] of await currentVersions(rt.database.db)) embedded.set(id, file);
    } finally {
      await rt.close();
    }
    assert.equal(embedded.size, 4);
  });

  it('distributed: a server and two worker processes build every playbook', async () => {
    const port = await freePort();
    const env = { NOETL_DATABASE_URL: catalog.url, NOETL_NATS_URL: nats.url, NOETL_HOME: path.join(ws.home, 'distributed'), NOETL_DOMAINS_DIR: ws.domains, NOETL_PORT: String(port), NOETL_LOG_LEVEL: 'warn' };
    const server = spawnNoetl(['server'], ws.root, env);
    procs.push(server);
    await server.waitFor(/noetl server at/);
    for (let i = 0; i < 2; i++) {
      const w = spawnNoetl(['worker', '--concurrency', '2'], ws.root, env);
      procs.push(w);
      await w.waitFor(/serving pool/);
    }
    const base = `http://127.0.0.1:${port}/api/v1`;
    for (const playbook of ['healthcare/patient_cohort', 'observability/ingest_traces', 'risk/score_applications', 'marketing/build_campaign_targets']) {
      const res = await fetch(`${base}/executions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ playbook, workload: {} }) });
      assert.equal(res.status, 201, playbook);
      const { id } = (await res.json()) as { id: string };
      let status = 'running';
      for (let i = 0; i < 1200 && status === 'running'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = ((await (await fetch(`${base}/executions/${id}`)).json()) as { status: string }).status;
      }
      assert.equal(status, 'completed', playbook);
    }
    const db: Db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: catalog.url, max: 1 }) }) });
    try {
      for (const [id, file] of await currentVersions(db)) distributed.set(id, file);
    } finally {
      await db.destroy();
    }
    assert.equal(distributed.size, 4);
  });

  it('every product has the same rows in both modes', async () => {
    const duck = await DuckDBInstance.create(':memory:');
    const conn = await duck.connect();
    try {
      assert.deepEqual([...distributed.keys()].sort(), [...embedded.keys()].sort());
      for (const [id, a] of embedded) {
        const b = distributed.get(id)!;
        const r = await conn.runAndReadAll(
          `SELECT (SELECT count(*) FROM read_parquet('${a}')) AS rows,
                  (SELECT count(*) FROM (SELECT * FROM read_parquet('${a}') EXCEPT ALL SELECT * FROM read_parquet('${b}'))) AS only_embedded,
                  (SELECT count(*) FROM (SELECT * FROM read_parquet('${b}') EXCEPT ALL SELECT * FROM read_parquet('${a}'))) AS only_distributed`,
        );
        const { rows, only_embedded, only_distributed } = r.getRowObjectsJson()[0]!;
        assert.ok(Number(rows) > 0, id);
        assert.deepEqual([Number(only_embedded), Number(only_distributed)], [0, 0], `${id}: rows in one mode and not the other`);
      }
    } finally {
      conn.closeSync();
      duck.closeSync();
    }
  });
});
