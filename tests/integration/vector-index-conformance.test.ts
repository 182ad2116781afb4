/**
 * The vector index suite over every adapter: pgvector in the embedded database
 * (PGlite), an exact scan on the real PostgreSQL, pgvector on the real
 * PostgreSQL where the extension is installed (not on this machine's
 * PostgreSQL 15: skipped, saying so), and Qdrant when NOETL_QDRANT_URL names a
 * server (none can be installed here: skipped, saying so).
 */
import { randomUUID } from 'node:crypto';
import { after } from 'node:test';
import { openDatabase, type Database } from '../../platform/index.ts';
import { hasPgvector, openPostgresIndex, openQdrantIndex } from '../../platform/vector-index/index.ts';
import { vectorIndexConformance } from '../conformance/vector-index-suite.ts';
import { freshPostgres, type FreshDatabase } from '../helpers/postgres.ts';

const model = (): string => `test-${randomUUID().slice(0, 8)}`;
const opened: { database: Database; fresh?: FreshDatabase }[] = [];

async function embedded(): Promise<Database> {
  const database = await openDatabase({ kind: 'embedded', dataDir: undefined });
  opened.push({ database });
  return database;
}

let postgres: Promise<Database> | undefined;
function server(): Promise<Database> {
  postgres ??= (async () => {
    const fresh = await freshPostgres();
    const database = await openDatabase({ kind: 'postgres', url: fresh.url });
    opened.push({ database, fresh });
    return database;
  })();
  return postgres;
}

after(async () => {
  for (const { database, fresh } of opened) {
    await database.close();
    await fresh?.drop();
  }
});

let pglite: Promise<Database> | undefined;
vectorIndexConformance({
  name: 'pgvector (PGlite)',
  open: async (d) => openPostgresIndex((await (pglite ??= embedded())).db, model(), d, 'pgvector'),
});
vectorIndexConformance({
  name: 'exact scan (PostgreSQL)',
  open: async (d) => openPostgresIndex((await server()).db, model(), d, 'exact'),
});
vectorIndexConformance({
  name: 'pgvector (PostgreSQL)',
  unavailable: async () =>
    (await hasPgvector((await server()).db)) ? undefined : 'pgvector is not installed on this PostgreSQL server',
  open: async (d) => openPostgresIndex((await server()).db, model(), d, 'pgvector'),
});
const qdrant = process.env.NOETL_QDRANT_URL;
vectorIndexConformance({
  name: 'Qdrant',
  unavailable: () =>
    Promise.resolve(qdrant ? undefined : 'NOETL_QDRANT_URL is not set: no Qdrant server to test against'),
  open: (d) => openQdrantIndex(qdrant!, model(), d),
});
