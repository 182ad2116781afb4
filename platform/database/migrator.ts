/**
 * One migrator for both databases. Migrations are the ordered `NNN_name.sql`
 * files of `migrations/`; each runs in its own transaction together with the row
 * recording it, so a failing migration leaves nothing behind. An applied file
 * whose text has changed since is refused: migrations are append-only. Servers
 * starting together take turns: each migration's transaction first takes an
 * advisory lock, then steps aside if another process applied it meanwhile.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { NoetlError } from '../../common/errors.ts';
import type { Database } from './database.ts';

export interface Migration {
  name: string;
  sql: string;
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: string[];
}

export const MIGRATIONS_DIR = path.resolve(import.meta.dirname, '../../migrations');

export function readMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ name: f, sql: fs.readFileSync(path.join(dir, f), 'utf8') }));
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

/** One lock for everyone migrating a noetl database (an arbitrary constant). */
const LOCK = 'SELECT pg_advisory_xact_lock(727465382);';
const ALREADY = 'noetl: migration already applied';

export async function migrate(database: Database, migrations: Migration[] = readMigrations()): Promise<MigrationReport> {
  await database.execScript(
    `BEGIN; ${LOCK} CREATE TABLE IF NOT EXISTS noetl_migrations (name text PRIMARY KEY, sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now()); COMMIT;`,
  );
  const rows = await sql<{ name: string; sha256: string }>`SELECT name, sha256 FROM noetl_migrations`.execute(database.db);
  const done = new Map(rows.rows.map((r) => [r.name, r.sha256]));
  const report: MigrationReport = { applied: [], alreadyApplied: [] };
  for (const m of migrations) {
    const digest = sha(m.sql);
    const prior = done.get(m.name);
    if (prior !== undefined) {
      if (prior !== digest) {
        throw new NoetlError('E_MIGRATION_FAILED', `migration ${m.name} was changed after it was applied; add a new migration instead`);
      }
      report.alreadyApplied.push(m.name);
      continue;
    }
    const record = `INSERT INTO noetl_migrations (name, sha256) VALUES ('${m.name}', '${digest}');`;
    const unlessApplied = `DO $$ BEGIN IF EXISTS (SELECT 1 FROM noetl_migrations WHERE name = '${m.name}') THEN RAISE EXCEPTION '${ALREADY}'; END IF; END $$;`;
    try {
      await database.execScript(`BEGIN; ${LOCK} ${unlessApplied}\n${m.sql}\n;${record}\nCOMMIT;`);
    } catch (e) {
      if ((e as Error).message.includes(ALREADY)) {
        report.alreadyApplied.push(m.name);
        continue;
      }
      throw new NoetlError('E_MIGRATION_FAILED', `migration ${m.name} failed: ${(e as Error).message}`, { cause: e });
    }
    report.applied.push(m.name);
  }
  return report;
}
