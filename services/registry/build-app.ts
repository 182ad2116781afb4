/**
 * The registry's HTTP app, built from its dependencies so tests can drive it
 * in-process with `inject()`. Routes are served under `/api/v1` and, for
 * convenience, at the root (`/products`, `/executions/:id`, ...).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Db } from '../../platform/index.ts';
import type { Logger } from '../../platform/log/logger.ts';
import { errorHandler } from './http-errors.ts';
import { catalogRoutes } from './routes/catalog-routes.ts';
import { executionControlRoutes, type ExecutionControl } from './routes/execution-control-routes.ts';
import { executionRoutes } from './routes/execution-routes.ts';
import { homePage } from './routes/home-page.ts';
import { lineageRoutes } from './routes/lineage-routes.ts';

export interface RegistryDeps {
  db: Db;
  log: Logger;
  /** What the health endpoint reports about the deployment. */
  mode: 'embedded' | 'distributed';
  /** Starting and cancelling executions; without it the API only reads. */
  executions?: ExecutionControl;
}

export type { ExecutionControl } from './routes/execution-control-routes.ts';

export async function buildApp(deps: RegistryDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });
  app.setErrorHandler(errorHandler(deps.log));
  app.get('/health', async () => {
    await deps.db.selectFrom('domains').select('name').limit(1).execute();
    return { status: 'ok', mode: deps.mode };
  });
  app.get('/', homePage(deps.db));
  for (const prefix of ['/api/v1', '']) {
    await app.register(catalogRoutes(deps.db), { prefix });
    await app.register(executionRoutes(deps.db), { prefix });
    await app.register(lineageRoutes(deps.db), { prefix });
    if (deps.executions) await app.register(executionControlRoutes(deps.db, deps.executions), { prefix });
  }
  return app;
}
