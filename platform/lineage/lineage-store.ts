/**
 * The lineage graph in PostgreSQL (or the embedded database): events stored
 * once each, datasets, jobs, dataset edges and column edges kept up to date as
 * events arrive. Shared by the orchestrator (noetl's own runs) and the registry
 * (events from any producer).
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { eventKey, graphOf, type AnyLineageEvent, type ColumnEdge, type EventGraph, type LineageEdge } from '../../lineage/index.ts';
import type { Schema } from '../database/schema.ts';

type Db = Kysely<Schema> | Transaction<Schema>;

export interface StoreResult {
  stored: number;
  duplicates: number;
}

/**
 * Stores events (each once, by content) and adds what the new ones say to the
 * graph, all in one transaction (the caller's, or one of its own): the graph of
 * every event is extracted before anything is written, so an event is never
 * stored without its graph.
 */
export async function storeLineage(db: Db, events: readonly AnyLineageEvent[]): Promise<StoreResult> {
  if (events.length === 0) return { stored: 0, duplicates: 0 };
  const byKey = new Map(events.map((e) => [eventKey(e), { event: e, graph: graphOf(e) }]));
  const store = async (tx: Transaction<Schema>): Promise<number> => {
    const inserted = await insertEvents(tx, byKey);
    await writeGraph(tx, [...byKey].filter(([k]) => inserted.has(k)).map(([, x]) => x));
    return inserted.size;
  };
  const stored = db.isTransaction ? await store(db as Transaction<Schema>) : await db.transaction().execute(store);
  return { stored, duplicates: events.length - stored };
}

/** Inserts the events not stored before; answers the keys of those it inserted. */
async function insertEvents(db: Db, byKey: Map<string, { event: AnyLineageEvent }>): Promise<Set<string>> {
  const rows = [...byKey].map(([key, { event: e }]) => {
    const run = e.run as { runId?: string } | undefined;
    const job = e.job as { namespace?: string; name?: string } | undefined;
    return {
      run_id: run?.runId ?? '',
      event_type: typeof e.eventType === 'string' ? e.eventType : e.dataset ? 'DATASET' : 'JOB',
      job_namespace: job?.namespace ?? '',
      job_name: job?.name ?? '',
      event_time: e.eventTime,
      event: JSON.stringify(e),
      event_key: key,
      producer: e.producer,
    };
  });
  const inserted = new Set<string>();
  for (const chunk of chunks(rows, 500)) {
    const r = await db.insertInto('lineage_events').values(chunk).onConflict((oc) => oc.column('event_key').doNothing()).returning('event_key').execute();
    for (const x of r) inserted.add(x.event_key!);
  }
  return inserted;
}

/** Adds what events say to the graph (datasets, jobs, dataset and column edges), without storing the events. */
export async function addToGraph(db: Db, events: readonly AnyLineageEvent[]): Promise<void> {
  await writeGraph(db, events.map((event) => ({ event, graph: graphOf(event) })));
}

async function writeGraph(db: Db, fresh: readonly { event: AnyLineageEvent; graph: EventGraph }[]): Promise<void> {
  await upsertNodes(db, 'lineage_datasets', fresh.flatMap(({ event: e, graph: g }) => g.datasets.map((d) => ({ ...d, at: e.eventTime }))));
  await upsertNodes(db, 'lineage_jobs', fresh.flatMap(({ event: e, graph: g }) => (g.job ? [{ ...g.job, at: e.eventTime }] : [])));
  await upsertEdges(db, fresh.flatMap(({ event: e, graph: g }) => g.edges.map((edge) => ({ edge, at: e.eventTime }))));
  await upsertColumnEdges(db, fresh.flatMap(({ event: e, graph: g }) => g.columnEdges.map((edge) => ({ edge, at: e.eventTime }))));
}

async function upsertNodes(db: Db, table: 'lineage_datasets' | 'lineage_jobs', nodes: { namespace: string; name: string; facets: Record<string, unknown>; at: string }[]): Promise<void> {
  const merged = new Map<string, (typeof nodes)[number]>();
  for (const n of nodes) {
    const k = `${n.namespace}\u0000${n.name}`;
    const prior = merged.get(k);
    merged.set(k, prior ? { ...n, facets: { ...prior.facets, ...n.facets }, at: prior.at > n.at ? prior.at : n.at } : n);
  }
  for (const chunk of chunks([...merged.values()], 500)) {
    await db
      .insertInto(table)
      .values(chunk.map((n) => ({ namespace: n.namespace, name: n.name, facets: JSON.stringify(n.facets), first_seen: n.at, last_seen: n.at })))
      .onConflict((oc) =>
        oc.columns(['namespace', 'name']).doUpdateSet({
          // Facets from the newest event win, one by one; facets nobody sent again are kept.
          facets: sql`${sql.ref(`${table}.facets`)} || excluded.facets`,
          first_seen: sql`least(${sql.ref(`${table}.first_seen`)}, excluded.first_seen)`,
          last_seen: sql`greatest(${sql.ref(`${table}.last_seen`)}, excluded.last_seen)`,
        }),
      )
      .execute();
  }
}

async function upsertEdges(db: Db, edges: { edge: LineageEdge; at: string }[]): Promise<void> {
  const unique = new Map(edges.map((x) => [`${x.edge.from.namespace}|${x.edge.from.name}|${x.edge.job.namespace}|${x.edge.job.name}|${x.edge.to.namespace}|${x.edge.to.name}`, x]));
  for (const chunk of chunks([...unique.values()], 500)) {
    await db
      .insertInto('lineage_edges')
      .values(chunk.map(({ edge: e, at }) => ({ src_namespace: e.from.namespace, src_name: e.from.name, job_namespace: e.job.namespace, job_name: e.job.name, dst_namespace: e.to.namespace, dst_name: e.to.name, first_seen: at, last_seen: at })))
      .onConflict((oc) =>
        oc.columns(['src_namespace', 'src_name', 'job_namespace', 'job_name', 'dst_namespace', 'dst_name']).doUpdateSet({
          first_seen: sql`least(lineage_edges.first_seen, excluded.first_seen)`,
          last_seen: sql`greatest(lineage_edges.last_seen, excluded.last_seen)`,
        }),
      )
      .execute();
  }
}

async function upsertColumnEdges(db: Db, edges: { edge: ColumnEdge; at: string }[]): Promise<void> {
  const key = (e: ColumnEdge): string => [e.from.namespace, e.from.name, e.from.column, e.job.namespace, e.job.name, e.to.namespace, e.to.name, e.to.column, e.transformation].join('|');
  const unique = new Map(edges.map((x) => [key(x.edge), x]));
  for (const chunk of chunks([...unique.values()], 500)) {
    await db
      .insertInto('lineage_column_edges')
      .values(
        chunk.map(({ edge: e, at }) => ({
          src_namespace: e.from.namespace,
          src_name: e.from.name,
          src_column: e.from.column,
          job_namespace: e.job.namespace,
          job_name: e.job.name,
          dst_namespace: e.to.namespace,
          dst_name: e.to.name,
          dst_column: e.to.column,
          transformation: e.transformation,
          first_seen: at,
          last_seen: at,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['src_namespace', 'src_name', 'src_column', 'job_namespace', 'job_name', 'dst_namespace', 'dst_name', 'dst_column', 'transformation']).doUpdateSet({
          first_seen: sql`least(lineage_column_edges.first_seen, excluded.first_seen)`,
          last_seen: sql`greatest(lineage_column_edges.last_seen, excluded.last_seen)`,
        }),
      )
      .execute();
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
