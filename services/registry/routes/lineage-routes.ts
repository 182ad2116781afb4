/**
 * Lineage over HTTP. Ingestion is compatible with the OpenLineage HTTP
 * transport and Marquez (`POST /lineage`, one event) and takes batches (a JSON
 * array or NDJSON); the same event twice counts once; an invalid event gets 400
 * with the JSON path of the problem and nothing of a batch is written. Reads:
 * the native graph (datasets or columns, upstream/downstream/both, depth, node
 * and fan-out budgets, as of a time), impact analysis, and Marquez's
 * `GET /lineage?nodeId=dataset:<namespace>:<name>&depth=N`.
 */
import type { FastifyInstance } from 'fastify';
import { NoetlError } from '../../../common/errors.ts';
import { productOf, validateEvent, type AnyLineageEvent } from '../../../lineage/index.ts';
import { lineage, nodeExists, storeLineage, type Db, type Direction, type NodeKey } from '../../../platform/index.ts';
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

function parseBatch(body: unknown, contentType: string | undefined): unknown[] {
  if (Array.isArray(body)) return body;
  if (typeof body === 'string' && (contentType ?? '').includes('ndjson')) {
    return body.split('\n').filter((l) => l.trim() !== '').map((line, i) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        throw new NoetlError('E_REQUEST_INVALID', `line ${i + 1} of the NDJSON body is not JSON`);
      }
    });
  }
  throw new NoetlError('E_REQUEST_INVALID', 'a batch is a JSON array of OpenLineage events, or NDJSON (content-type application/x-ndjson)');
}

function validated(events: unknown[]): AnyLineageEvent[] {
  events.forEach((e, i) => {
    const problem = validateEvent(e);
    if (problem) throw new NoetlError('E_REQUEST_INVALID', `event ${i}: ${problem.path} ${problem.message}`, { details: { index: i, path: problem.path } });
  });
  return events as AnyLineageEvent[];
}

export function lineageRoutes(db: Db) {
  return (app: FastifyInstance): Promise<void> => {
    app.addContentTypeParser('application/x-ndjson', { parseAs: 'string', bodyLimit: 64 * 1024 * 1024 }, (_req, body, done) => done(null, body));

    app.post('/lineage', async (req, reply) => {
      const problem = validateEvent(req.body);
      if (problem) throw new NoetlError('E_REQUEST_INVALID', `${problem.path} ${problem.message}`, { details: { path: problem.path } });
      const r = await storeLineage(db, [req.body as AnyLineageEvent]);
      return reply.status(r.stored === 1 ? 201 : 200).send({ stored: r.stored, duplicate: r.duplicates === 1 });
    });

    app.post('/lineage/batch', { bodyLimit: 64 * 1024 * 1024 }, async (req) => {
      const events = validated(parseBatch(req.body, req.headers['content-type']));
      return db.transaction().execute((tx) => storeLineage(tx, events));
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
