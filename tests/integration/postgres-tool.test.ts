/** The postgres tool on the real server: bound parameters, cursor streaming to Parquet, credentials from the worker's vault, never printed. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createLogger, loadConfig, type ExecutionEvent } from '../../platform/index.ts';
import { buildPlaybook } from '../../cli/commands/build.ts';
import { openRuntime, type Runtime } from '../../cli/runtime.ts';
import { runNoetl } from '../helpers/cli.ts';
import { freshPostgres, type FreshDatabase } from '../helpers/postgres.ts';
import { REPO_ROOT, workspace } from '../helpers/workspace.ts';

const SECRET = 'hunter22-not-for-logs';

describe('postgres tool', () => {
  const ws = workspace();
  let db: FreshDatabase;
  let url: string;
  let rt: Runtime;
  const events: ExecutionEvent[] = [];
  const logs: string[] = [];

  before(async () => {
    fs.cpSync(path.join(REPO_ROOT, 'tests/fixtures/domains/shop'), path.join(ws.domains, 'shop'), { recursive: true });
    db = await freshPostgres();
    const u = new URL(db.url);
    u.username = 'postgres';
    u.password = SECRET; // trust auth ignores it; the point is that it never shows
    url = u.toString();
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query('CREATE TABLE orders (id bigint PRIMARY KEY, day date NOT NULL, amount numeric(10,2) NOT NULL, note text)');
    await c.query(`INSERT INTO orders SELECT i, DATE '2026-11-20' + (i % 10), (i % 1000) / 10.0, CASE WHEN i % 7 = 0 THEN NULL ELSE 'n' || i END FROM generate_series(1, 50000) i`);
    await c.end();
  });
  after(async () => {
    await rt?.close();
    await db?.drop();
    ws.cleanup();
  });

  async function runtime(secret: string | undefined): Promise<Runtime> {
    await rt?.close();
    rt = await openRuntime(loadConfig({ NOETL_HOME: ws.home, NOETL_DOMAINS_DIR: ws.domains, ...(secret ? { NOETL_SECRET_SHOP__WAREHOUSE: secret } : {}) }), {
      log: createLogger({ level: 'debug', write: (l) => logs.push(l), secrets: new Set(secret ? [secret] : []) }),
    });
    rt.supervisor.onEvent((e) => events.push(e));
    return rt;
  }

  it('reads with bound parameters, streaming through a cursor into typed Parquet', async () => {
    await runtime(url);
    const r = await buildPlaybook(rt, 'shop/daily_revenue', {}, () => undefined);
    assert.equal(r.state.status, 'completed', r.state.error?.message);
    const orders = r.state.results.orders!;
    assert.equal(orders.kind, 'table');
    if (orders.kind !== 'table') return;
    assert.equal(orders.rows, 5000);
    assert.deepEqual(orders.schema.map((c) => `${c.name}:${c.type}`), ['id:BIGINT', 'day:DATE', 'amount:DOUBLE', 'note:VARCHAR']);
    const revenue = r.state.results.revenue!;
    assert.equal(revenue.kind === 'table' && revenue.rows, 1);
  });

  it('reports the PostgreSQL table as a lineage input, with column lineage into the step and on to DuckDB', async () => {
    const dbName = new URL(db.url).pathname.slice(1);
    const edges = await rt.database.db.selectFrom('lineage_column_edges').selectAll().where('src_namespace', '=', 'postgres://127.0.0.1:5432').execute();
    assert.ok(edges.some((e) => e.src_name === `${dbName}.public.orders` && e.src_column === 'amount' && e.dst_name === 'daily_revenue.orders' && e.dst_column === 'amount' && e.transformation === 'DIRECT/IDENTITY'), JSON.stringify(edges.slice(0, 3)));
    assert.ok(edges.some((e) => e.src_column === 'day' && e.transformation === 'INDIRECT/FILTER'));
    const next = await rt.database.db.selectFrom('lineage_column_edges').selectAll().where('src_name', '=', 'daily_revenue.orders').where('src_column', '=', 'amount').execute();
    assert.ok(next.some((e) => e.dst_name === 'daily_revenue.revenue' && e.dst_column === 'revenue' && e.transformation === 'DIRECT/AGGREGATION'));
  });

  it('never splices workload values into SQL: an injection attempt is just a value', async () => {
    const r = await buildPlaybook(rt, 'shop/daily_revenue', { day: "2026-11-27'; DROP TABLE orders; --" }, () => undefined);
    assert.equal(r.state.status, 'failed');
    assert.match(r.state.error!.message, /invalid input syntax for type date/);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const n = await c.query<{ n: string }>('SELECT count(*) AS n FROM orders');
    await c.end();
    assert.equal(n.rows[0]!.n, '50000', 'the table is still there');
  });

  it('keeps the credential out of events, lineage and logs', () => {
    const everything = JSON.stringify(events) + logs.join('\n');
    assert.ok(events.length > 0 && logs.length > 0);
    assert.ok(!everything.includes(SECRET), 'the secret appears nowhere');
  });

  it('a worker without the credential fails the step naming the variable to set', async () => {
    await runtime(undefined);
    const r = await buildPlaybook(rt, 'shop/daily_revenue', {}, () => undefined);
    assert.equal(r.state.error?.code, 'E_CREDENTIAL_MISSING');
    assert.match(r.state.error.message, /set NOETL_SECRET_SHOP__WAREHOUSE/);
  });

  it('noetl check refuses a credential the keychain does not declare', async () => {
    const file = path.join(ws.domains, 'shop/playbooks/daily_revenue.yaml');
    const original = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, original.replace('credential: warehouse', 'credential: warehuose'));
    try {
      const r = await runNoetl(['check'], { cwd: ws.root });
      assert.equal(r.code, 1);
      assert.match(r.stdout, /daily_revenue\.yaml:\d+:\d+: E_PLAYBOOK_UNDEFINED_CREDENTIAL: step "orders" uses credential "warehuose"/);
    } finally {
      fs.writeFileSync(file, original);
    }
  });
});
