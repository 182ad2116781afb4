/**
 * The vector index port: items (a vector and a payload that says what it is,
 * of which domain, in which state) upserted and deleted by id, and the k
 * nearest to a vector by cosine similarity, filtered by domain, kind and
 * status. One index holds one collection: the vectors of one embedder model,
 * of one length. Adapters (one conformance suite, tests/conformance/
 * vector-index-suite.ts): pgvector in PGlite or in a PostgreSQL that has the
 * extension, an exact scan on any PostgreSQL, and Qdrant.
 */

/** What an item is, for filtering and for showing a hit. */
export interface VectorPayload {
  /** `product`, `execution`, `failure`, … */
  kind: string;
  domain: string;
  status?: string;
  /** Anything else the caller wants back with a hit (a title, a run id); JSON. */
  [field: string]: unknown;
}

export interface VectorItem {
  id: string;
  vector: number[];
  payload: VectorPayload;
}

/** Each given field narrows the hits to items with one of its values. */
export interface VectorFilter {
  domain?: string | string[];
  kind?: string | string[];
  status?: string | string[];
}

export interface VectorHit {
  id: string;
  /** Cosine similarity, 1 for the same direction. */
  score: number;
  payload: VectorPayload;
}

export interface VectorIndex {
  /** The adapter, for messages and benchmarks (`pgvector`, `exact`, `qdrant`). */
  readonly adapter: string;
  readonly dimensions: number;
  /** Adds items, or replaces those whose id is already there. */
  upsert(items: readonly VectorItem[]): Promise<void>;
  delete(ids: readonly string[]): Promise<void>;
  /** The `k` items nearest to `vector`, best first. */
  search(vector: readonly number[], options: { k: number; filter?: VectorFilter }): Promise<VectorHit[]>;
  count(): Promise<number>;
  /** Removes every item (before a rebuild). */
  clear(): Promise<void>;
}

/** The values a filter field admits, as a list. */
export function filterValues(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value : [value];
}

/** A collection's table or name: from its model and length, safe in SQL and Qdrant. */
export function collectionName(model: string, dimensions: number): string {
  return `noetl_vec_${model
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 40)}_${dimensions}`;
}
