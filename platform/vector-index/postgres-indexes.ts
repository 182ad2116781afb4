/**
 * Vector indexes in the catalog's own database. pgvector when the database has
 * the extension (PGlite always does; a PostgreSQL server when it is installed):
 * an HNSW index over cosine distance. Otherwise an exact scan: vectors as
 * `real[]`, the cosine of unit vectors computed as a dot product in SQL, which
 * needs no extension and suits the thousands of items a catalog holds. Each
 * collection is a table of its own, made on first use (its column's length is
 * the model's, which no migration can know).
 */
import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../database/database.ts';
import {
  collectionName,
  filterValues,
  type VectorFilter,
  type VectorHit,
  type VectorIndex,
  type VectorItem,
  type VectorPayload,
} from './vector-index.ts';

/** Whether this database can load pgvector. */
export async function hasPgvector(db: Db): Promise<boolean> {
  const r = await sql<{
    n: number;
  }>`SELECT count(*)::int AS n FROM pg_available_extensions WHERE name = 'vector'`.execute(db);
  return (r.rows[0]?.n ?? 0) > 0;
}

type Flavour = {
  adapter: 'pgvector' | 'exact';
  column: RawBuilder<unknown>;
  cast: (vector: readonly number[]) => RawBuilder<unknown>;
};

const PGVECTOR = (dimensions: number): Flavour => ({
  adapter: 'pgvector',
  column: sql.raw(`vector(${dimensions})`),
  cast: (v) => sql`${`[${v.join(',')}]`}::vector`,
});
const EXACT: Flavour = { adapter: 'exact', column: sql.raw('real[]'), cast: (v) => sql`${v}::real[]` };

/** Opens (making it if new) the collection of `model` vectors of `dimensions` in this database. */
export async function openPostgresIndex(
  db: Db,
  model: string,
  dimensions: number,
  adapter: 'pgvector' | 'exact',
): Promise<VectorIndex> {
  const flavour = adapter === 'pgvector' ? PGVECTOR(dimensions) : EXACT;
  const name = collectionName(model, dimensions);
  const table = sql.id(name);
  if (adapter === 'pgvector') await sql`CREATE EXTENSION IF NOT EXISTS vector`.execute(db);
  await sql`CREATE TABLE IF NOT EXISTS ${table} (
    id text PRIMARY KEY, kind text NOT NULL, domain text NOT NULL, status text,
    payload jsonb NOT NULL, embedding ${flavour.column} NOT NULL)`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS ${sql.id(`${name}_filter`)} ON ${table} (domain, kind, status)`.execute(db);
  if (adapter === 'pgvector') {
    await sql`CREATE INDEX IF NOT EXISTS ${sql.id(`${name}_hnsw`)} ON ${table} USING hnsw (embedding vector_cosine_ops)`.execute(
      db,
    );
  }
  return new PostgresIndex(db, table, flavour, dimensions);
}

class PostgresIndex implements VectorIndex {
  readonly adapter: string;

  constructor(
    private readonly db: Db,
    private readonly table: RawBuilder<unknown>,
    private readonly flavour: Flavour,
    readonly dimensions: number,
  ) {
    this.adapter = flavour.adapter;
  }

  async upsert(items: readonly VectorItem[]): Promise<void> {
    for (const item of items) {
      this.checkLength(item.vector);
      const { kind, domain, status } = item.payload;
      await sql`INSERT INTO ${this.table} (id, kind, domain, status, payload, embedding)
        VALUES (${item.id}, ${kind}, ${domain}, ${status ?? null}, ${JSON.stringify(item.payload)}::jsonb, ${this.flavour.cast(item.vector)})
        ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, domain = excluded.domain, status = excluded.status,
          payload = excluded.payload, embedding = excluded.embedding`.execute(this.db);
    }
  }

  async delete(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await sql`DELETE FROM ${this.table} WHERE id = ANY(${[...ids]}::text[])`.execute(this.db);
  }

  async search(vector: readonly number[], options: { k: number; filter?: VectorFilter }): Promise<VectorHit[]> {
    this.checkLength(vector);
    const where = whereOf(options.filter);
    const query = this.flavour.cast(vector);
    const rows =
      this.flavour.adapter === 'pgvector'
        ? await sql<Row>`SELECT id, payload, 1 - (embedding <=> ${query}) AS score FROM ${this.table} ${where}
            ORDER BY embedding <=> ${query} LIMIT ${options.k}`.execute(this.db)
        : await sql<Row>`SELECT id, payload, (SELECT sum(a * b) FROM unnest(embedding, ${query}) AS t(a, b)) AS score
            FROM ${this.table} ${where} ORDER BY score DESC, id LIMIT ${options.k}`.execute(this.db);
    return rows.rows.map((r) => ({ id: r.id, score: Number(r.score), payload: r.payload }));
  }

  async count(): Promise<number> {
    const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${this.table}`.execute(this.db);
    return r.rows[0]?.n ?? 0;
  }

  async clear(): Promise<void> {
    await sql`DELETE FROM ${this.table}`.execute(this.db);
  }

  private checkLength(vector: readonly number[]): void {
    if (vector.length !== this.dimensions) {
      throw new TypeError(`a vector of ${vector.length} dimensions for a collection of ${this.dimensions}`);
    }
  }
}

interface Row {
  id: string;
  payload: VectorPayload;
  score: number | string;
}

function whereOf(filter: VectorFilter | undefined): RawBuilder<unknown> {
  const clauses: RawBuilder<unknown>[] = [];
  for (const field of ['domain', 'kind', 'status'] as const) {
    const values = filterValues(filter?.[field]);
    if (values) clauses.push(sql`${sql.ref(field)} = ANY(${values}::text[])`);
  }
  return clauses.length === 0 ? sql`` : sql`WHERE ${sql.join(clauses, sql` AND `)}`;
}
