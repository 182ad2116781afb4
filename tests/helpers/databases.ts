/** The database adapters available here, each opened fresh, for suites that loop over them. */
import { openDatabase, type Database } from '../../platform/index.ts';
import { freshPostgres } from './postgres.ts';

export interface DatabaseAdapter {
  name: 'embedded' | 'postgres';
  open(): Promise<{ database: Database; url: string | undefined; dispose: () => Promise<void> }>;
}

export const DATABASE_ADAPTERS: DatabaseAdapter[] = [
  {
    name: 'embedded',
    async open() {
      const database = await openDatabase({ kind: 'embedded', dataDir: undefined });
      return { database, url: undefined, dispose: () => database.close() };
    },
  },
  {
    name: 'postgres',
    async open() {
      const fresh = await freshPostgres();
      const database = await openDatabase({ kind: 'postgres', url: fresh.url });
      return {
        database,
        url: fresh.url,
        async dispose() {
          await database.close();
          await fresh.drop();
        },
      };
    },
  },
];

/** Opens a fresh database of the adapter, hands it to `work`, and disposes of it whatever happens. */
export async function withDatabase(adapter: DatabaseAdapter, work: (database: Database) => Promise<void>): Promise<void> {
  const { database, dispose } = await adapter.open();
  try {
    await work(database);
  } finally {
    await dispose();
  }
}
