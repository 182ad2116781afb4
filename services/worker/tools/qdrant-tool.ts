/**
 * `qdrant`: vector collections through the official @qdrant/js-client-rest.
 * The credential is the server URL, with the API key (if any) as the URL's
 * password: `https://:KEY@host:6333`. Points come from a table reference
 * (read as Arrow): column `id` (integer or UUID), column `vector` (a list of
 * numbers), every other column goes into the payload.
 *
 *   tool: { kind: qdrant, credential: vectors, action: create_collection, collection: docs, vector_size: 384, distance: Cosine }
 *   tool: { kind: qdrant, credential: vectors, action: upsert, collection: docs, from: "{{ results.embed }}" }
 *   tool: { kind: qdrant, credential: vectors, action: search, collection: docs, vector: "{{ results.query.value }}", limit: 5 }
 */
import { QdrantClient } from '@qdrant/js-client-rest';
import { NoetlError } from '../../../common/errors.ts';
import { evaluateValue } from '../../../common/expressions.ts';
import type { DatasetRef } from '../../../lineage/index.ts';
import type { StepResult, TableRef } from '../../../platform/bus/messages.ts';
import { readParquetAsArrow } from '../artifacts/arrow.ts';
import { recordWrite, templateScope, type Tool, type ToolContext } from './tool.ts';

interface QdrantSpec {
  credential?: unknown;
  action?: unknown;
  collection?: unknown;
  vector_size?: unknown;
  distance?: unknown;
  from?: unknown;
  vector?: unknown;
  limit?: unknown;
  filter?: unknown;
  batch_size?: unknown;
}

const DISTANCES = ['Cosine', 'Dot', 'Euclid', 'Manhattan'] as const;

export const qdrantTool: Tool = {
  kind: 'qdrant',
  async run(ctx) {
    const spec = evaluateValue(ctx.command.tool, templateScope(ctx.command), { deadline: ctx.deadline }) as QdrantSpec;
    const step = ctx.command.step;
    if (typeof spec.credential !== 'string') throw new NoetlError('E_PLAYBOOK_INVALID', `step "${step}": tool qdrant needs "credential" (a keychain name whose value is the server URL)`);
    if (typeof spec.collection !== 'string' || !/^[A-Za-z0-9_-]+$/.test(spec.collection)) throw new NoetlError('E_PLAYBOOK_INVALID', `step "${step}": tool qdrant needs "collection", a name of letters, digits, _ and -`);
    const { client, namespace } = connect(ctx.credential(spec.credential));
    const collection = spec.collection;
    switch (spec.action) {
      case 'create_collection':
        return guard(step, () => createCollection(client, collection, spec, step));
      case 'upsert':
        return guard(step, () => upsert(ctx, client, { namespace, name: collection }, spec));
      case 'search':
        return guard(step, () => search(client, collection, spec, step));
      default:
        throw new NoetlError('E_PLAYBOOK_INVALID', `step "${step}": tool qdrant needs "action": create_collection, upsert or search`);
    }
  },
};

/** The client, and `qdrant://host:port` (never the API key) naming its collections in lineage. */
function connect(url: string): { client: QdrantClient; namespace: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new NoetlError('E_CONFIG_INVALID', 'the qdrant credential is not a URL (expected http(s)://[:api-key@]host:6333)');
  }
  const apiKey = decodeURIComponent(parsed.password) || undefined;
  const client = new QdrantClient({ url: `${parsed.protocol}//${parsed.host}`, ...(apiKey ? { apiKey } : {}), checkCompatibility: false });
  return { client, namespace: `qdrant://${parsed.hostname}:${parsed.port || '6333'}` };
}

async function createCollection(client: QdrantClient, collection: string, spec: QdrantSpec, step: string): Promise<StepResult> {
  const size = Number(spec.vector_size);
  if (!Number.isInteger(size) || size < 1) throw new NoetlError('E_PLAYBOOK_INVALID', `step "${step}": create_collection needs "vector_size", a positive integer`);
  const distance = (spec.distance ?? 'Cosine') as (typeof DISTANCES)[number];
  if (!DISTANCES.includes(distance)) throw new NoetlError('E_PLAYBOOK_INVALID', `step "${step}": distance must be one of ${DISTANCES.join(', ')}`);
  const { exists } = await client.collectionExists(collection);
  if (!exists) await client.createCollection(collection, { vectors: { size, distance } });
  return { kind: 'value', value: { collection, created: !exists } };
}

async function upsert(ctx: ToolContext, client: QdrantClient, target: DatasetRef, spec: QdrantSpec): Promise<StepResult> {
  const collection = target.name;
  const ref = spec.from as Partial<TableRef> | null;
  if (ref?.kind !== 'table' || typeof ref.uri !== 'string') throw new NoetlError('E_PLAYBOOK_INVALID', `step "${ctx.command.step}": qdrant upsert "from" is not a table reference (give e.g. "{{ results.<step> }}")`);
  const table = readParquetAsArrow(ctx.artifacts.resolve(ref.uri));
  const names = table.schema.fields.map((f) => f.name);
  if (!names.includes('id') || !names.includes('vector')) throw new NoetlError('E_PLAYBOOK_INVALID', `step "${ctx.command.step}": qdrant upsert needs columns "id" and "vector"; the table has ${names.join(', ')}`);
  const batchSize = Number(spec.batch_size ?? 256);
  let points: { id: number | string; vector: number[]; payload: Record<string, unknown> }[] = [];
  let written = 0;
  const flush = async (): Promise<void> => {
    if (points.length === 0) return;
    await client.upsert(collection, { wait: true, points });
    written += points.length;
    points = [];
    ctx.heartbeat();
  };
  for (let i = 0; i < table.numRows; i++) {
    ctx.signal.throwIfAborted();
    const { id, vector, ...rest } = (table.get(i) as { toJSON(): Record<string, unknown> }).toJSON();
    const payload = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]));
    points.push({ id: typeof id === 'bigint' ? Number(id) : (id as number | string), vector: [...(vector as Iterable<number>)].map(Number), payload });
    if (points.length >= batchSize) await flush();
  }
  await flush();
  recordWrite(ctx, target, ref as TableRef);
  return { kind: 'value', value: { collection, upserted: written } };
}

async function search(client: QdrantClient, collection: string, spec: QdrantSpec, step: string): Promise<StepResult> {
  if (!Array.isArray(spec.vector) || !spec.vector.every((x) => typeof x === 'number')) throw new NoetlError('E_PLAYBOOK_INVALID', `step "${step}": qdrant search needs "vector", a list of numbers`);
  const hits = await client.search(collection, { vector: spec.vector, limit: Number(spec.limit ?? 10), with_payload: true, ...(spec.filter ? { filter: spec.filter } : {}) });
  return { kind: 'value', value: hits.map((h) => ({ id: h.id, score: h.score, payload: h.payload ?? {} })) };
}

/** The server refusing a request (4xx) is E_HTTP_STATUS; not reaching it, or a 5xx, is E_TOOL_FAILED (retryable). */
async function guard(step: string, work: () => Promise<StepResult>): Promise<StepResult> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof NoetlError) throw e;
    const err = e as Error & { status?: number };
    const code = typeof err.status === 'number' && err.status < 500 ? 'E_HTTP_STATUS' : 'E_TOOL_FAILED';
    throw new NoetlError(code, `step "${step}": qdrant: ${err.message}`, { cause: e });
  }
}
