/**
 * The example domain `examples/domains/supply`: http, postgres, python and
 * duckdb steps end to end against real systems (a loopback HTTP API that fails
 * once, a real PostgreSQL, the real python3), in both modes: embedded (one
 * process, PGlite, in-process bus) and distributed (a server and two worker
 * processes over a nats-server and PostgreSQL). Both publish the same product.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { openRuntime } from '../../cli/runtime.ts';
import { progressLine } from '../../cli/progress.ts';
import { loadConfig, type ExecutionEvent } from '../../platform/index.ts';
import { startNatsServer, freePort, type TestNatsServer } from '../helpers/nats-server.ts';
import { freshPostgres, type FreshDatabase } from '../helpers/postgres.ts';
import { spawnNoetl, type NoetlProcess } from '../helpers/processes.ts';
import { REPO_ROOT, tempDir } from '../helpers/workspace.ts';

const STOCK = [
  { warehouse: 'north', sku: 'A1', on_hand: 10, weekly_sales: 5 },
  { warehouse: 'north', sku: 'A2', on_hand: 100, weekly_sales: 3 },
  { warehouse: 'north', sku: 'A3', on_hand: 0, weekly_sales: 1 },
  { warehouse: 'south', sku: 'A1', on_hand: 0, weekly_sales: 50 },
];
const OFFERS = [
  { sku: 'A1', supplier: 'acme', unit_price: 2.5 },
  { sku: 'A1', supplier: 'bolt', unit_price: 2.0 },
  { sku: 'A2', supplier: 'acme', unit_price: 7.25 },
  { sku: 'A3', supplier: 'acme', unit_price: 10.0 },
];

/** The plan, worked out here the way the playbook does it. */
function expectedPlan(warehouse: string, weeks: number): unknown[] {
  return STOCK.filter((s) => s.warehouse === warehouse)
    .map((s) => ({ sku: s.sku, shortfall: Math.max(0, Math.ceil(s.weekly_sales * weeks * 1.1) - s.on_hand) }))
    .filter((s) => s.shortfall > 0)
    .map((s) => {
      const best = OFFERS.filter((o) => o.sku === s.sku).sort((a, b) => a.unit_price - b.unit_price || a.supplier.localeCompare(b.supplier))[0]!;
      return { sku: s.sku, warehouse, quantity: s.shortfall, supplier: best.supplier, unit_price: best.unit_price, cost: Math.round(s.shortfall * best.unit_price * 100) / 100 };
    });
}

async function readPlan(file: string): Promise<unknown[]> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const rows = (await conn.runAndReadAll(`SELECT sku, warehouse, quantity::INTEGER AS quantity, supplier, unit_price::DOUBLE AS unit_price, cost::DOUBLE AS cost FROM read_parquet('${file}') ORDER BY sku`)).getRowObjectsJson();
    return rows;
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

describe('example domain supply: http, postgres, python and duckdb in both modes', () => {
  let inventory: FreshDatabase;
  let api: http.Server;
  let suppliersUrl: string;
  /** The suppliers API is on loopback, which workers refuse unless NOETL_HTTP_ALLOW names it. */
  let httpAllow: string;
  const calls: string[] = [];
  const domains = tempDir('noetl-supply-');
  const published: Record<string, unknown[]> = {};

  before(async () => {
    fs.cpSync(path.join(REPO_ROOT, 'examples/domains'), domains, { recursive: true });
    inventory = await freshPostgres('noetl_inv');
    const db = new pg.Client({ connectionString: inventory.url });
    await db.connect();
    await db.query('CREATE TABLE stock (warehouse text, sku text, on_hand integer, weekly_sales integer)');
    for (const s of STOCK) await db.query('INSERT INTO stock VALUES ($1, $2, $3, $4)', [s.warehouse, s.sku, s.on_hand, s.weekly_sales]);
    await db.end();
    let first = true;
    api = http.createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      calls.push(url.search);
      if (first) {
        first = false;
        res.writeHead(503).end('{"error":"warming up"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(OFFERS));
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    suppliersUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/suppliers`;
    httpAllow = `127.0.0.1:${(api.address() as AddressInfo).port}`;
  });

  after(async () => {
    api?.close();
    await inventory?.drop();
    fs.rmSync(domains, { recursive: true, force: true });
  });

  it('embedded: one process builds the plan', async () => {
    const home = tempDir();
    const rt = await openRuntime(loadConfig({ NOETL_HOME: home, NOETL_DOMAINS_DIR: domains, NOETL_LOG_LEVEL: 'error', NOETL_SECRET_SUPPLY__INVENTORY: inventory.url, NOETL_HTTP_ALLOW: httpAllow }));
    try {
      const id = await rt.supervisor.startExecution('supply/restock_plan', { suppliers_url: suppliersUrl });
      const state = await rt.supervisor.waitFor(id);
      assert.equal(state.status, 'completed', JSON.stringify(state.error));
      const plan = state.results.plan!;
      assert.equal(plan.kind, 'table');
      published.embedded = await readPlan(fileURLToPath(plan.kind === 'table' ? plan.uri : ''));
      assert.deepEqual(published.embedded, expectedPlan('north', 4));
      assert.ok(calls.every((c) => c === '?warehouse=north') && calls.length === 2, 'one 503, retried by the tool');
      const events = await rt.database.db.selectFrom('events').select(['type', 'step', 'payload']).where('execution_id', '=', id).where('step', '=', 'forecast').where('type', '=', 'step.completed').execute();
      assert.match(JSON.stringify(events[0]!.payload), /forecast 3 skus over 4 weeks/, "the script's output is in the event");
      assert.match(progressLine(events[0]!.payload as ExecutionEvent)!, /✓ forecast \(3 rows.*\n +│ forecast 3 skus over 4 weeks$/, 'and in the progress lines');
    } finally {
      await rt.close();
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it('distributed: a server and two worker processes build the same plan', async () => {
    let nats: TestNatsServer | undefined;
    let catalog: FreshDatabase | undefined;
    const procs: NoetlProcess[] = [];
    const home = tempDir();
    try {
      [nats, catalog] = await Promise.all([startNatsServer(), freshPostgres()]);
      const port = await freePort();
      const env = { NOETL_DATABASE_URL: catalog.url, NOETL_NATS_URL: nats.url, NOETL_HOME: home, NOETL_DOMAINS_DIR: domains, NOETL_PORT: String(port), NOETL_LOG_LEVEL: 'warn', NOETL_SECRET_SUPPLY__INVENTORY: inventory.url, NOETL_HTTP_ALLOW: httpAllow };
      const server = spawnNoetl(['server'], home, env);
      procs.push(server);
      await server.waitFor(/noetl server at/);
      for (let i = 0; i < 2; i++) {
        const w = spawnNoetl(['worker', '--concurrency', '2'], home, env);
        procs.push(w);
        await w.waitFor(/serving pool/);
      }
      const base = `http://127.0.0.1:${port}/api/v1`;
      const res = await fetch(`${base}/executions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ playbook: 'supply/restock_plan', workload: { suppliers_url: suppliersUrl } }) });
      assert.equal(res.status, 201);
      const { id } = (await res.json()) as { id: string };
      let status = 'running';
      for (let i = 0; i < 600 && status === 'running'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = ((await (await fetch(`${base}/executions/${id}`)).json()) as { status: string }).status;
      }
      assert.equal(status, 'completed');
      const steps = ((await (await fetch(`${base}/executions/${id}`)).json()) as { steps: { name: string; output?: { stdout: string } }[] }).steps;
      assert.match(steps.find((s) => s.name === 'forecast')!.output!.stdout, /forecast 3 skus/, 'the API shows what the script printed');
      const db = new Kysely<{ products: { id: string; current_materialization_id: string }; materializations: { id: string; artifact_uri: string } }>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: catalog.url, max: 1 }) }) });
      const row = await db.selectFrom('products as p').innerJoin('materializations as m', 'm.id', 'p.current_materialization_id').select('m.artifact_uri').where('p.id', '=', 'supply.restock_plan').executeTakeFirstOrThrow();
      await db.destroy();
      published.distributed = await readPlan(fileURLToPath(row.artifact_uri));
      assert.deepEqual(published.distributed, published.embedded, 'the same product in both modes');
    } finally {
      for (const p of procs) await p.kill('SIGTERM');
      await nats?.stop();
      await catalog?.drop();
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
