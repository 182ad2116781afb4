/** Catalog routes: health, domains, products. */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../../platform/index.ts';
import { checkHistory, getProduct, listDomains, listProducts, productHistory } from '../catalog/queries.ts';

export function catalogRoutes(db: Db) {
  return (app: FastifyInstance): Promise<void> => {
    app.get('/domains', async () => ({ domains: await listDomains(db) }));
    app.get<{ Querystring: { domain?: string } }>(
      '/products',
      { schema: { querystring: { type: 'object', properties: { domain: { type: 'string' } }, additionalProperties: false } } },
      async (req) => ({ products: await listProducts(db, req.query.domain) }),
    );
    app.get<{ Params: { id: string } }>('/products/:id', async (req) => getProduct(db, req.params.id));
    app.get<{ Params: { id: string } }>('/products/:id/history', async (req) => productHistory(db, req.params.id));
    app.get<{ Params: { id: string; check: string } }>('/products/:id/checks/:check/history', async (req) => checkHistory(db, req.params.id, req.params.check));
    return Promise.resolve();
  };
}
