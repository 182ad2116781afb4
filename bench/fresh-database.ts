/** A database of its own for one benchmark: PostgreSQL when NOETL_BENCH_DATABASE_URL (default: the local server) answers, else embedded. */
import pg from 'pg';
import { openDatabase, type Database } from '../platform/index.ts';

const ADMIN = process.env.NOETL_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  /** The PostgreSQL URL, undefined when embedded. */
  url: string | undefined;
  kind: 'PostgreSQL' | 'embedded PGlite';
  open(): Promise<Database>;
  drop(): Promise<void>;
}

export async function freshBenchDatabase(prefix: string): Promise<BenchDatabase> {
  const name = `${prefix}_${Date.now()}`;
  try {
    const c = new pg.Client({ connectionString: ADMIN });
    await c.connect();
    await c.query(`CREATE DATABASE ${name}`);
    await c.end();
  } catch {
    return { url: undefined, kind: 'embedded PGlite', open: () => openDatabase({ kind: 'embedded', dataDir: undefined }), drop: () => Promise.resolve() };
  }
  const u = new URL(ADMIN);
  u.pathname = `/${name}`;
  const url = u.toString();
  return {
    url,
    kind: 'PostgreSQL',
    open: () => openDatabase({ kind: 'postgres', url }),
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
