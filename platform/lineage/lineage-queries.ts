/**
 * Questions to the lineage graph: what feeds this, what does this feed, at
 * dataset or column level, as of now or of a past moment. Walks go level by
 * level with one indexed query per level, under a depth, a node budget and a
 * per-node fan-out budget; the answer says where a budget cut it short
 * (`partial`), so an empty answer is never ambiguous.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Schema } from '../database/schema.ts';

export interface NodeKey {
  namespace: string;
  name: string;
  /** Set for column-level lineage. */
  column?: string;
}

export type Direction = 'upstream' | 'downstream' | 'both';

export interface WalkOptions {
  direction: Direction;
  depth: number;
  /** Nodes in the answer at most (default 1,000). */
  maxNodes?: number;
  /** Neighbours followed per node at most (default 200). */
  maxFanOut?: number;
  /** Only edges that existed at this time (ISO 8601). */
  asOf?: string;
}

export interface LineageNode extends NodeKey {
  depth: number;
  direction: 'upstream' | 'downstream';
}

export interface LineageLink {
  from: NodeKey;
  to: NodeKey;
  job: { namespace: string; name: string };
  transformation?: string;
}

export interface Truncation {
  node: string;
  reason: 'depth' | 'fan-out' | 'nodes';
}

export interface LineageAnswer {
  start: NodeKey;
  nodes: LineageNode[];
  edges: LineageLink[];
  /** Where the walk stopped early; empty when the answer is complete. */
  partial: Truncation[];
}

export function nodeId(k: NodeKey): string {
  return k.column === undefined ? `${k.namespace}/${k.name}` : `${k.namespace}/${k.name}#${k.column}`;
}

export async function lineage(db: Kysely<Schema>, start: NodeKey, o: WalkOptions): Promise<LineageAnswer> {
  const answer: LineageAnswer = { start, nodes: [], edges: [], partial: [] };
  const dirs: ('upstream' | 'downstream')[] = o.direction === 'both' ? ['upstream', 'downstream'] : [o.direction];
  const seen = new Set([nodeId(start)]);
  for (const dir of dirs) await walk(db, start, dir, o, answer, seen);
  return answer;
}

async function walk(db: Kysely<Schema>, start: NodeKey, dir: 'upstream' | 'downstream', o: WalkOptions, answer: LineageAnswer, seen: Set<string>): Promise<void> {
  const maxNodes = o.maxNodes ?? 1000;
  const maxFanOut = o.maxFanOut ?? 200;
  let frontier: NodeKey[] = [start];
  for (let depth = 1; frontier.length > 0; depth++) {
    if (depth > o.depth) {
      for (const k of await withMoreEdges(db, frontier, dir, o.asOf)) answer.partial.push({ node: nodeId(k), reason: 'depth' });
      return;
    }
    const links = await neighbours(db, frontier, dir, maxFanOut + 1, o.asOf);
    const next: NodeKey[] = [];
    const byNode = new Map<string, LineageLink[]>();
    for (const l of links) {
      const from = dir === 'downstream' ? l.from : l.to;
      const list = byNode.get(nodeId(from)) ?? [];
      list.push(l);
      byNode.set(nodeId(from), list);
    }
    for (const [node, list] of byNode) {
      if (list.length > maxFanOut) answer.partial.push({ node, reason: 'fan-out' });
      for (const l of list.slice(0, maxFanOut)) {
        const other = dir === 'downstream' ? l.to : l.from;
        const id = nodeId(other);
        if (!seen.has(id)) {
          if (answer.nodes.length >= maxNodes) {
            answer.partial.push({ node, reason: 'nodes' });
            return;
          }
          seen.add(id);
          answer.nodes.push({ ...other, depth, direction: dir });
          next.push(other);
        }
        answer.edges.push(l);
      }
    }
    frontier = next;
  }
}

const isColumn = (keys: readonly NodeKey[]): boolean => keys[0]?.column !== undefined;

function keyList(keys: readonly NodeKey[]): RawBuilder<unknown> {
  return sql.join(keys.map((k) => (k.column === undefined ? sql`(${k.namespace}, ${k.name})` : sql`(${k.namespace}, ${k.name}, ${k.column})`)));
}

/** The links of each frontier node in the direction, at most `limit` per node. */
async function neighbours(db: Kysely<Schema>, frontier: readonly NodeKey[], dir: 'upstream' | 'downstream', limit: number, asOf: string | undefined): Promise<LineageLink[]> {
  const [near, far] = dir === 'downstream' ? ['src', 'dst'] : ['dst', 'src'];
  const when = asOf === undefined ? sql`` : sql` AND first_seen <= ${asOf}::timestamptz`;
  if (isColumn(frontier)) {
    const rows = await sql<Record<string, string>>`
      SELECT * FROM (
        SELECT e.src_namespace, e.src_name, e.src_column, e.dst_namespace, e.dst_name, e.dst_column, e.job_namespace, e.job_name, e.transformation,
               row_number() OVER (PARTITION BY ${sql.ref(`e.${near}_namespace`)}, ${sql.ref(`e.${near}_name`)}, ${sql.ref(`e.${near}_column`)} ORDER BY ${sql.ref(`e.${far}_namespace`)}, ${sql.ref(`e.${far}_name`)}, ${sql.ref(`e.${far}_column`)}, e.transformation) AS rn
        FROM (VALUES ${keyList(frontier)}) AS f(namespace, name, col)
        JOIN lineage_column_edges e ON ${sql.ref(`e.${near}_namespace`)} = f.namespace AND ${sql.ref(`e.${near}_name`)} = f.name AND ${sql.ref(`e.${near}_column`)} = f.col${when}
      ) t WHERE rn <= ${limit}`.execute(db);
    return rows.rows.map((r) => ({
      from: { namespace: r.src_namespace!, name: r.src_name!, column: r.src_column! },
      to: { namespace: r.dst_namespace!, name: r.dst_name!, column: r.dst_column! },
      job: { namespace: r.job_namespace!, name: r.job_name! },
      transformation: r.transformation!,
    }));
  }
  // A join with the frontier as a VALUES list lets PostgreSQL probe the (namespace, name) index once per key.
  const rows = await sql<Record<string, string>>`
    SELECT * FROM (
      SELECT e.src_namespace, e.src_name, e.dst_namespace, e.dst_name, e.job_namespace, e.job_name,
             row_number() OVER (PARTITION BY ${sql.ref(`e.${near}_namespace`)}, ${sql.ref(`e.${near}_name`)} ORDER BY ${sql.ref(`e.${far}_namespace`)}, ${sql.ref(`e.${far}_name`)}, e.job_name) AS rn
      FROM (VALUES ${keyList(frontier)}) AS f(namespace, name)
      JOIN lineage_edges e ON ${sql.ref(`e.${near}_namespace`)} = f.namespace AND ${sql.ref(`e.${near}_name`)} = f.name${when}
    ) t WHERE rn <= ${limit}`.execute(db);
  return rows.rows.map((r) => ({ from: { namespace: r.src_namespace!, name: r.src_name! }, to: { namespace: r.dst_namespace!, name: r.dst_name! }, job: { namespace: r.job_namespace!, name: r.job_name! } }));
}

/** The frontier nodes that have edges beyond the depth bound. */
async function withMoreEdges(db: Kysely<Schema>, frontier: readonly NodeKey[], dir: 'upstream' | 'downstream', asOf: string | undefined): Promise<NodeKey[]> {
  const links = await neighbours(db, frontier, dir, 1, asOf);
  const keep = new Map(links.map((l) => {
    const k = dir === 'downstream' ? l.from : l.to;
    return [nodeId(k), k];
  }));
  return [...keep.values()];
}

/** Whether a dataset (or a column of it) is known to the graph. */
export async function nodeExists(db: Kysely<Schema>, k: NodeKey): Promise<boolean> {
  const ds = await db.selectFrom('lineage_datasets').select('name').where('namespace', '=', k.namespace).where('name', '=', k.name).executeTakeFirst();
  if (ds) return true;
  const e = await db.selectFrom('lineage_edges').select('src_name').where((w) => w.or([w.and([w('src_namespace', '=', k.namespace), w('src_name', '=', k.name)]), w.and([w('dst_namespace', '=', k.namespace), w('dst_name', '=', k.name)])])).limit(1).executeTakeFirst();
  return e !== undefined;
}
