/** Vector indexes: the port, and its PostgreSQL (pgvector or exact scan) and Qdrant adapters. */
export {
  collectionName,
  type VectorFilter,
  type VectorHit,
  type VectorIndex,
  type VectorItem,
  type VectorPayload,
} from './vector-index.ts';
export { hasPgvector, openPostgresIndex } from './postgres-indexes.ts';
export { openQdrantIndex } from './qdrant-index.ts';
