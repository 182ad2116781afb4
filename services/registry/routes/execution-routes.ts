/** Execution routes: list and one execution with its steps and events. */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../../platform/index.ts';
import { getExecution, listExecutions } from '../catalog/queries.ts';

export function executionRoutes(db: Db) {
  return (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: { limit?: number } }>(
      '/executions',
      { schema: { querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 500 } }, additionalProperties: false } } },
      async (req) => ({ executions: await listExecutions(db, req.query.limit) }),
    );
    app.get<{ Params: { id: string } }>('/executions/:id', async (req) => getExecution(db, req.params.id));
    return Promise.resolve();
  };
}
