/**
 * The database port: a Kysely instance over either the embedded PGlite (one
 * process owns its data folder, guarded by a lock file) or a real PostgreSQL
 * server. Both speak the same SQL, so every query and migration runs on both.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';
import { Kysely, PostgresDialect, type PostgresPool } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import { NoetlError } from '../../common/errors.ts';
import type { Schema } from './schema.ts';

export type Db = Kysely<Schema>;

export interface Database {
  db: Db;
  kind: 'embedded' | 'postgres';
  /** Runs a multi-statement SQL script (migrations); a transaction it leaves open by failing is rolled back. */
  execScript(script: string): Promise<void>;
  close(): Promise<void>;
}

export type DatabaseTarget = { kind: 'postgres'; url: string } | { kind: 'embedded'; dataDir: string | undefined };

const PREPARED = /^\/\* prepared: ([a-z_]+) \*\//;

/**
 * Marks a statement (put first in its text) to be prepared once per connection
 * under `name` and reused: for statements that run on every step, whose text
 * never changes (parameters only). A comment elsewhere: PGlite ignores it.
 */
export function preparedAs(name: string): string {
  if (!/^[a-z_]+$/.test(name)) throw new TypeError(`bad prepared statement name ${name}`);
  return `/* prepared: ${name} */`;
}

/** Opens the database: PostgreSQL when a URL is given, else PGlite under `dataDir` (in memory when undefined). */
export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  return target.kind === 'postgres' ? openPostgres(target.url) : openEmbedded(target.dataDir);
}

function openPostgres(url: string): Database {
  // int8 and numeric come back as numbers: counts and sizes here fit in a double.
  const types = { getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === 20 || oid === 1700 ? (v: string) => Number(v) : (pg.types.getTypeParser(oid, format) as (v: string) => unknown)) };
  const pool = new pg.Pool({ connectionString: url, max: 10, types });
  // An idle connection the server drops (a restart, a terminated backend) is replaced on next use;
  // without a listener its error would crash the process.
  pool.on('error', () => undefined);
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }) });
  return {
    db,
    kind: 'postgres',
    async execScript(script) {
      const client = await pool.connect();
      try {
        await client.query(script);
      } catch (e) {
        // A script's own BEGIN stays open after an error: close it before the connection goes back.
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    },
    close: () => db.destroy(),
  };
}

/** The pool Kysely sees: its clients run statements marked by `preparedAs` as named prepared statements. */
function preparingPool(pool: pg.Pool): PostgresPool {
  return {
    connect: async () => {
      const client = await pool.connect();
      const query = client.query.bind(client) as (...args: unknown[]) => never;
      return {
        query: (text: unknown, values?: readonly unknown[]) => {
          const name = typeof text === 'string' ? PREPARED.exec(text)?.[1] : undefined;
          return name === undefined ? query(text, values) : query({ name, text, values });
        },
        release: () => client.release(),
      };
    },
    end: () => pool.end(),
  };
}

async function openEmbedded(dataDir: string | undefined): Promise<Database> {
  const release = dataDir === undefined ? () => {} : acquireLock(dataDir);
  let pglite: PGlite;
  try {
    // pgvector comes with the embedded database, for the semantic index (loaded on first CREATE EXTENSION).
    const options = { extensions: { vector } };
    pglite = dataDir === undefined ? await PGlite.create(options) : await PGlite.create(dataDir, options);
  } catch (e) {
    release();
    throw e;
  }
  const db = new Kysely<Schema>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    kind: 'embedded',
    async execScript(script) {
      try {
        await pglite.exec(script);
      } catch (e) {
        await pglite.exec('ROLLBACK').catch(() => undefined);
        throw e;
      }
    },
    async close() {
      await db.destroy();
      if (!pglite.closed) await pglite.close();
      release();
    },
  };
}

/** One process owns an embedded database: a lock file names it, and a live owner keeps others out. */
function acquireLock(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const lock = path.join(path.dirname(dataDir), `${path.basename(dataDir)}.lock`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(fs.readFileSync(lock, 'utf8'));
      if (owner && owner !== process.pid && isAlive(owner)) {
        throw new NoetlError('E_DATABASE_LOCKED', `the embedded database ${dataDir} is in use by process ${owner}; reach it over HTTP (e.g. --server http://localhost:8080) or stop that process`);
      }
      fs.rmSync(lock, { force: true });
    }
  }
  throw new NoetlError('E_DATABASE_LOCKED', `cannot lock the embedded database ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
