/**
 * A vector index in Qdrant (@qdrant/js-client-rest), one collection per model
 * and length, cosine distance. Qdrant takes only unsigned integers and UUIDs as
 * point ids: an item's id is turned into a UUID by hashing it, and kept in the
 * payload (`_id`) so hits give it back.
 */
import { createHash } from 'node:crypto';
import { QdrantClient } from '@qdrant/js-client-rest';
import {
  collectionName,
  filterValues,
  type VectorFilter,
  type VectorHit,
  type VectorIndex,
  type VectorItem,
  type VectorPayload,
} from './vector-index.ts';

export async function openQdrantIndex(
  url: string,
  model: string,
  dimensions: number,
  apiKey?: string,
): Promise<VectorIndex> {
  const client = new QdrantClient({ url, ...(apiKey ? { apiKey } : {}), checkCompatibility: false });
  const index = new QdrantIndex(client, collectionName(model, dimensions), dimensions);
  await index.ensure();
  return index;
}

class QdrantIndex implements VectorIndex {
  readonly adapter = 'qdrant';

  constructor(
    private readonly client: QdrantClient,
    private readonly name: string,
    readonly dimensions: number,
  ) {}

  async ensure(): Promise<void> {
    const { exists } = await this.client.collectionExists(this.name);
    if (!exists)
      await this.client.createCollection(this.name, { vectors: { size: this.dimensions, distance: 'Cosine' } });
  }

  async upsert(items: readonly VectorItem[]): Promise<void> {
    if (items.length === 0) return;
    const points = items.map((item) => ({
      id: pointId(item.id),
      vector: [...item.vector],
      payload: { ...item.payload, _id: item.id },
    }));
    await this.client.upsert(this.name, { wait: true, points });
  }

  async delete(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.client.delete(this.name, { wait: true, points: ids.map(pointId) });
  }

  async search(vector: readonly number[], options: { k: number; filter?: VectorFilter }): Promise<VectorHit[]> {
    const must = (['domain', 'kind', 'status'] as const).flatMap((key) => {
      const any = filterValues(options.filter?.[key]);
      return any ? [{ key, match: { any } }] : [];
    });
    const hits = await this.client.search(this.name, {
      vector: [...vector],
      limit: options.k,
      with_payload: true,
      ...(must.length > 0 ? { filter: { must } } : {}),
    });
    return hits.map((h) => {
      const { _id, ...payload } = (h.payload ?? {}) as VectorPayload & { _id: string };
      return { id: _id, score: h.score, payload };
    });
  }

  async count(): Promise<number> {
    return (await this.client.count(this.name, { exact: true })).count;
  }

  async clear(): Promise<void> {
    await this.client.deleteCollection(this.name);
    await this.ensure();
  }
}

/** A stable UUID for an item id. */
function pointId(id: string): string {
  const h = createHash('sha256').update(id).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
