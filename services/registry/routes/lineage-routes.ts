/**
 * Lineage over HTTP. Ingestion is compatible with the OpenLineage HTTP
 * transport and Marquez (`POST /lineage`, one event) and takes batches (a JSON
 * array or NDJSON); the same event twice counts once. Ingestion is atomic:
 * every event is validated, held to the per-event caps (`LINEAGE_LIMITS`) and
 * its graph extracted before anything is written, then the events and their
 * graph are stored in one transaction; a refused event gets 400 (413 for its
 * size) naming the event and field, and nothing of its batch is written.
 * Reads: the native graph (datasets or columns, upstream/downstream/both,
 * depth, node and fan-out budgets, as of a time), impact analysis, and
 * Marquez's `GET /lineage?nodeId=dataset:<namespace>:<name>&depth=N`.
 */
import type { FastifyInstance } from 'fastify';
import { NoetlError } from '../../../common/errors.ts';
import { eventLimitProblem, productOf, validateEvent, type AnyLineageEvent } from '../../../lineage/index.ts';
import { lineage, nodeExists, storeLineage, type Db, type Direction, type NodeKey } from '../../../platform/index.ts';
import { installNdjsonParser } from '../http/json-body.ts';
import { REQUEST_LIMITS } from '../http/request-limits.ts';
import { toMarquez } from '../lineage/marquez.ts';

interface GraphQuery {
  namespace: string;
  name: string;
  column?: string;
  direction?: Direction;
  depth?: number;
  maxNodes?: number;
  maxFanOut?: number;
  asOf?: string;
}

const graphQuerySchema = {
  type: 'object',
  required: ['namespace', 'name'],
  additionalProperties: false,
  properties: {
    namespace: { type: 'string', minLength: 1 },
    name: { type: 'string', minLength: 1 },
    column: { type: 'string', minLength: 1 },
    direction: { enum: ['upstream', 'downstream', 'both'] },
    depth: { type: 'integer', minimum: 0, maximum: 100 },
    maxNodes: { type: 'integer', minimum: 1, maximum: 100000 },
    maxFanOut: { type: 'integer', minimum: 1, maximum: 100000 },
    asOf: { type: 'string', format: 'date-time' },
  },
};

/** Every event valid (so its graph is extractable) and within the per-event caps; else the first problem, named. */
function checked(events: unknown[], batch: boolean): AnyLineageEvent[] {
  events.forEach((event, index) => {
    const field = (path: string): string => `body${batch ? `/${index}` : ''}${path === '/' ? '' : path}`;
    const prefix = batch ? `event ${index}: ` : '';
    const problem = validateEvent(event);
    if (problem) {
      const what = problem.path === '/' ? 'the event' : problem.path;
      const details = { ...(batch ? { index } : {}), path: problem.path, field: field(problem.path) };
      throw new NoetlError('E_REQUEST_INVALID', `${prefix}${what} ${problem.message}`, { details });
    }
    const limit = eventLimitProblem(event as AnyLineageEvent);
    if (limit) {
      const code = limit.kind === 'size' ? 'E_REQUEST_TOO_LARGE' : limit.kind === 'count' ? 'E_LINEAGE_LIMIT' : 'E_REQUEST_INVALID';
      const what = limit.path === '/' ? 'the event' : limit.path;
      const details = { ...(batch ? { index } : {}), path: limit.path, field: field(limit.path) };
      throw new NoetlError(code, `${prefix}${what} ${limit.message}`, { details });
    }
  });
  return events as AnyLineageEvent[];
}

export function lineageRoutes(db: Db) {
  return (app: FastifyInstance): Promise<void> => {
    // One event (the OpenLineage HTTP transport, Marquez): checked, then stored with its graph in one transaction.
    app.post('/lineage', async (req, reply) => {
      const [event] = checked([req.body], false);
      const r = await storeLineage(db, [event!]);
      return reply.status(r.stored === 1 ? 201 : 200).send({ stored: r.stored, duplicate: r.duplicates === 1 });
    });

    // A JSON array or NDJSON (this route alone takes it): every event checked before any is stored;
    // all stored in one transaction, or none.
    void app.register((batch: FastifyInstance) => {
      installNdjsonParser(batch, REQUEST_LIMITS.batchBodyBytes);
      batch.post('/lineage/batch', { bodyLimit: REQUEST_LIMITS.batchBodyBytes }, async (req) => {
        if (!Array.isArray(req.body)) {
          const message = 'a batch is a JSON array of OpenLineage events, or NDJSON (content-type application/x-ndjson)';
          throw new NoetlError('E_REQUEST_INVALID', message, { details: { field: 'body' } });
        }
        return storeLineage(db, checked(req.body, true));
      });
      return Promise.resolve();
    });

    // Marquez-compatible read.
    app.get<{ Querystring: { nodeId: string; depth?: number } }>(
      '/lineage',
      { schema: { querystring: { type: 'object', required: ['nodeId'], properties: { nodeId: { type: 'string' }, depth: { type: 'integer', minimum: 0, maximum: 100 } } } } },
      async (req) => {
        const start = await resolveNodeId(db, req.query.nodeId);
        const answer = await lineage(db, start, { direction: 'both', depth: req.query.depth ?? 20 });
        return toMarquez(answer);
      },
    );

    app.get<{ Querystring: GraphQuery }>('/lineage/graph', { schema: { querystring: graphQuerySchema } }, async (req) => {
      const q = req.query;
      const start: NodeKey = q.column === undefined ? { namespace: q.namespace, name: q.name } : { namespace: q.namespace, name: q.name, column: q.column };
      if (!(await nodeExists(db, start))) throw new NoetlError('E_PRODUCT_NOT_FOUND', `the lineage graph has no dataset ${q.namespace}/${q.name}`);
      return lineage(db, start, { direction: q.direction ?? 'both', depth: q.depth ?? 10, ...(q.maxNodes ? { maxNodes: q.maxNodes } : {}), ...(q.maxFanOut ? { maxFanOut: q.maxFanOut } : {}), ...(q.asOf ? { asOf: q.asOf } : {}) });
    });

    // What a change to a dataset (or a column of it) would hit: products, their domains and owners.
    app.get<{ Querystring: GraphQuery }>('/lineage/impact', { schema: { querystring: graphQuerySchema } }, async (req) => {
      const q = req.query;
      const start: NodeKey = q.column === undefined ? { namespace: q.namespace, name: q.name } : { namespace: q.namespace, name: q.name, column: q.column };
      const answer = await lineage(db, start, { direction: 'downstream', depth: q.depth ?? 20 });
      const ids = [...new Set(answer.nodes.flatMap((n) => productOf(n) ?? []))];
      const products = ids.length === 0 ? [] : await db.selectFrom('products').select(['id', 'domain', 'owners']).where('id', 'in', ids).orderBy('id').execute();
      return {
        start,
        products: products.map((p) => ({ id: p.id, domain: p.domain, owners: p.owners, columns: answer.nodes.filter((n) => productOf(n) === p.id && n.column !== undefined).map((n) => n.column) })),
        domains: [...new Set(products.map((p) => p.domain))].sort(),
        owners: [...new Set(products.flatMap((p) => p.owners))].sort(),
        datasets: answer.nodes.length,
        partial: answer.partial,
      };
    });
    return Promise.resolve();
  };
}

/** `dataset:<namespace>:<name>` where both parts may hold colons: the split that names a known dataset wins. */
async function resolveNodeId(db: Db, nodeId: string): Promise<NodeKey> {
  if (!nodeId.startsWith('dataset:')) throw new NoetlError('E_REQUEST_INVALID', `nodeId must look like dataset:<namespace>:<name>, not ${nodeId}`);
  const rest = nodeId.slice('dataset:'.length);
  for (let i = rest.indexOf(':'); i >= 0; i = rest.indexOf(':', i + 1)) {
    const k = { namespace: rest.slice(0, i), name: rest.slice(i + 1) };
    if (k.name && (await nodeExists(db, k))) return k;
  }
  throw new NoetlError('E_PRODUCT_NOT_FOUND', `no dataset ${nodeId} in the lineage graph`);
}
