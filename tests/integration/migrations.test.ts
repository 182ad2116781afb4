/** The migrator on the embedded database (PGlite) and on the real PostgreSQL server. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { migrate, openDatabase, preparedAs, readMigrations } from '../../platform/index.ts';
import pg from 'pg';
import { DATABASE_ADAPTERS, withDatabase } from '../helpers/databases.ts';
import { ADMIN_URL, freshPostgres } from '../helpers/postgres.ts';
import { tempDir } from '../helpers/workspace.ts';

const TABLES = ['domains', 'products', 'contract_versions', 'playbooks', 'playbook_versions', 'executions', 'events', 'artifacts', 'materializations', 'quality_results'];

for (const adapter of DATABASE_ADAPTERS) {
  describe(`migrations on ${adapter.name}`, () => {
    it('creates every table, and a second run applies nothing', () =>
      withDatabase(adapter, async (database) => {
        const first = await migrate(database);
        assert.deepEqual(first.applied, readMigrations().map((m) => m.name));
        const rows = await sql<{ table_name: string }>`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`.execute(database.db);
        const tables = new Set(rows.rows.map((r) => r.table_name));
        for (const t of TABLES) assert.ok(tables.has(t), `table ${t}`);
        const second = await migrate(database);
        assert.deepEqual(second.applied, []);
        assert.equal(second.alreadyApplied.length, first.applied.length);
      }));

    it('runs a statement marked preparedAs (prepared once per connection on PostgreSQL, a comment on PGlite)', () =>
      withDatabase(adapter, async (database) => {
        const run = (db: typeof database.db, n: number) => sql<{ n: number }>`${sql.raw(preparedAs('noetl_test_prepared'))} SELECT ${n}::int + 1 AS n`.execute(db);
        await database.db.connection().execute(async (db) => {
          assert.equal((await run(db, 1)).rows[0]!.n, 2);
          assert.equal((await run(db, 41)).rows[0]!.n, 42);
          if (database.kind === 'postgres') {
            const prepared = await sql<{ name: string }>`SELECT name FROM pg_prepared_statements`.execute(db);
            assert.deepEqual(prepared.rows.map((r) => r.name), ['noetl_test_prepared']);
          }
        });
      }));

    it('keeps the event log append-only', () =>
      withDatabase(adapter, async (database) => {
        await migrate(database);
        const db = database.db;
        await db.insertInto('executions').values({ id: 'e1', playbook_ref: 'd/p', playbook_sha: 'x', status: 'running', workload: '{}', error: null }).execute();
        await db.insertInto('events').values({ event_id: 'ev1', execution_id: 'e1', type: 'execution.started', step: null, payload: '{}', at: new Date().toISOString() }).execute();
        await assert.rejects(db.updateTable('events').set({ type: 'changed' }).execute(), /append-only/);
        await assert.rejects(db.deleteFrom('events').execute(), /append-only/);
        const n = await db.selectFrom('events').select(db.fn.countAll().as('n')).executeTakeFirstOrThrow();
        assert.equal(Number(n.n), 1);
      }));

    it('leaves nothing behind when a migration fails', () =>
      withDatabase(adapter, async (database) => {
        const broken = [...readMigrations(), { name: '999_broken.sql', sql: 'CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;' }];
        await assert.rejects(migrate(database, broken), (e: unknown) => (e as { code?: string }).code === 'E_MIGRATION_FAILED' && /999_broken/.test((e as Error).message));
        const rows = await sql<{ n: number }>`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'half_done'`.execute(database.db);
        assert.equal(rows.rows[0]!.n, 0);
        const applied = await sql<{ name: string }>`SELECT name FROM noetl_migrations`.execute(database.db);
        assert.ok(!applied.rows.some((r) => r.name === '999_broken.sql'));
        // The good migrations before it stay applied.
        assert.equal(applied.rows.length, readMigrations().length);
      }));

    it('refuses a migration whose text changed after it was applied', () =>
      withDatabase(adapter, async (database) => {
        await migrate(database);
        const changed = readMigrations().map((m, i) => (i === 0 ? { ...m, sql: m.sql + '\n-- edited' } : m));
        await assert.rejects(migrate(database, changed), /was changed after it was applied/);
      }));
  });
}

describe('embedded database on disk', () => {
  it('persists across opens and is owned by one process at a time', async () => {
    const dir = path.join(tempDir(), 'db');
    const first = await openDatabase({ kind: 'embedded', dataDir: dir });
    await migrate(first);
    await first.db.insertInto('domains').values({ name: 'risk', description: null, owners: '["a"]' }).execute();
    // A live owner (here a process that is surely alive: our parent) keeps others out.
    const lock = `${dir}.lock`;
    assert.ok(fs.existsSync(lock));
    await first.close();
    assert.ok(!fs.existsSync(lock), 'closing releases the lock');
    fs.writeFileSync(lock, String(process.ppid));
    await assert.rejects(openDatabase({ kind: 'embedded', dataDir: dir }), { code: 'E_DATABASE_LOCKED' });
    fs.writeFileSync(lock, '999999999');
    const second = await openDatabase({ kind: 'embedded', dataDir: dir });
    try {
      const rows = await second.db.selectFrom('domains').select('name').execute();
      assert.deepEqual(rows, [{ name: 'risk' }], 'data survived; a stale lock was taken over');
    } finally {
      await second.close();
    }
  });
});

describe('migrating one PostgreSQL database from several servers at once', () => {
  it('applies each migration once; the others see it applied, and nobody fails', async () => {
    const fresh = await freshPostgres();
    // Separate pools, as separate server processes would have.
    const servers = await Promise.all([1, 2, 3].map(() => openDatabase({ kind: 'postgres', url: fresh.url })));
    try {
      const reports = await Promise.all(servers.map((d) => migrate(d)));
      const names = readMigrations().map((m) => m.name);
      for (const name of names) assert.equal(reports.filter((r) => r.applied.includes(name)).length, 1, `${name} applied exactly once`);
      for (const r of reports) assert.deepEqual([...r.applied, ...r.alreadyApplied].sort(), names);
      const rows = await sql<{ n: number }>`SELECT count(*)::int AS n FROM noetl_migrations`.execute(servers[0]!.db);
      assert.equal(rows.rows[0]!.n, names.length);
    } finally {
      await Promise.all(servers.map((d) => d.close()));
      await fresh.drop();
    }
  });
});

describe('PostgreSQL connections', () => {
  it('survives the server dropping an idle pooled connection (the next query reconnects)', async () => {
    const fresh = await freshPostgres();
    const database = await openDatabase({ kind: 'postgres', url: fresh.url });
    try {
      await migrate(database);
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      // Terminate this database's backends, as a restart or an administrator would.
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [new URL(fresh.url).pathname.slice(1)]);
      await admin.end();
      await new Promise((r) => setTimeout(r, 300));
      const rows = await database.db.selectFrom('domains').select('name').execute();
      assert.deepEqual(rows, []);
    } finally {
      await database.close();
      await fresh.drop();
    }
  });
});
