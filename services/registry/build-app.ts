/**
 * The registry's HTTP app, built from its dependencies so tests can drive it
 * in-process with `inject()`. Routes are served under `/api/v1` and, for
 * convenience, at the root (`/products`, `/executions/:id`, ...). Before any
 * handler runs, the request is held to `REQUEST_LIMITS` (URL, body, nesting,
 * strings, content type); every error, fastify's own included, answers
 * `{ error: { code, message } }` with a code of the catalogue.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Db } from '../../platform/index.ts';
import type { Logger } from '../../platform/log/logger.ts';
import { errorHandler, fromFastify, sendError } from './http-errors.ts';
import { clientErrorHandler, connectHandler } from './http/client-errors.ts';
import { installJsonParser } from './http/json-body.ts';
import { requestProblem } from './http/request-guard.ts';
import { REQUEST_LIMITS } from './http/request-limits.ts';
import { notFoundHandler, trackRoutes } from './http/route-table.ts';
import { validatorCompiler } from './http/validators.ts';
import { catalogRoutes } from './routes/catalog-routes.ts';
import { executionControlRoutes, type ExecutionControl } from './routes/execution-control-routes.ts';
import { executionRoutes } from './routes/execution-routes.ts';
import { healthRoute, type BusProbe } from './routes/health-route.ts';
import { homePage } from './routes/home-page.ts';
import { lineageRoutes } from './routes/lineage-routes.ts';

export interface RegistryDeps {
  db: Db;
  log: Logger;
  /** What the health endpoint reports about the deployment. */
  mode: 'embedded' | 'distributed';
  /** Starting and cancelling executions; without it the API only reads. */
  executions?: ExecutionControl;
  /** The bus the executions run on, for the health check; without it health reports the database alone. */
  bus?: BusProbe;
}

export type { ExecutionControl } from './routes/execution-control-routes.ts';
export type { BusProbe } from './routes/health-route.ts';

export async function buildApp(deps: RegistryDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: REQUEST_LIMITS.bodyBytes,
    // Longer path parameters are refused with 400 by the URL guard, naming them; past the URL limit, 414.
    routerOptions: { maxParamLength: REQUEST_LIMITS.urlBytes },
    clientErrorHandler,
    // A missing Host is refused by the request guard, coded; Node's own refusal has no body.
    http: { requireHostHeader: false },
    // Fastify's own answer to a bad URL, coded like every other.
    frameworkErrors: (error, _req, reply) => sendError(reply, fromFastify(error)),
    // Requests already on a connection while the app closes are served (the database closes after it), not
    // answered with fastify's uncoded 503.
    return503OnClosing: false,
  });
  app.server.on('connect', connectHandler);
  const routes = trackRoutes(app);
  app.addHook('onRequest', (req, reply, done) => {
    const problem = requestProblem(req);
    if (problem) return sendError(reply, problem);
    done();
  });
  app.setValidatorCompiler(validatorCompiler);
  installJsonParser(app);
  app.setErrorHandler(errorHandler(deps.log));
  app.setNotFoundHandler(notFoundHandler(routes));
  await app.register(healthRoute(deps.db, deps.mode, deps.bus));
  app.get('/', homePage(deps.db));
  for (const prefix of ['/api/v1', '']) {
    await app.register(catalogRoutes(deps.db), { prefix });
    await app.register(executionRoutes(deps.db), { prefix });
    await app.register(lineageRoutes(deps.db), { prefix });
    if (deps.executions) await app.register(executionControlRoutes(deps.db, deps.executions), { prefix });
  }
  return app;
}
