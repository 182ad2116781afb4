/** Catalog routes: health, domains, products. */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../../platform/index.ts';
import { getProduct, listDomains, listProducts } from '../catalog/queries.ts';

export function catalogRoutes(db: Db) {
  return (app: FastifyInstance): Promise<void> => {
    app.get('/domains', async () => ({ domains: await listDomains(db) }));
    app.get<{ Querystring: { domain?: string } }>(
      '/products',
      { schema: { querystring: { type: 'object', properties: { domain: { type: 'string' } }, additionalProperties: false } } },
      async (req) => ({ products: await listProducts(db, req.query.domain) }),
    );
    app.get<{ Params: { id: string } }>('/products/:id', async (req) => getProduct(db, req.params.id));
    return Promise.resolve();
  };
}
