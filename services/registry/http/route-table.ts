/**
 * Unknown routes and wrong methods. Fastify answers both with its own 404;
 * here a path that some route serves with other methods gets 405 and an Allow
 * header listing them, and a path no route serves gets 404, both coded.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NoetlError } from '../../../common/errors.ts';
import { sendError } from '../http-errors.ts';

interface KnownRoute {
  pattern: RegExp;
  methods: string[];
}

/** A route's URL (`/executions/:id/cancel`) as a pattern for concrete paths. */
function patternOf(url: string): RegExp {
  const parts = url.split('/').map((part) => {
    if (part.startsWith(':')) return '[^/]*';
    if (part === '*') return '.*';
    return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${parts.join('/')}$`);
}

/** Records every route as it is added; install before the routes. */
export function trackRoutes(app: FastifyInstance): { allowed(path: string): string[] } {
  const routes = new Map<string, KnownRoute>();
  app.addHook('onRoute', (route) => {
    const known = routes.get(route.url) ?? { pattern: patternOf(route.url), methods: [] };
    known.methods.push(...[route.method].flat());
    routes.set(route.url, known);
  });
  return {
    allowed(path: string): string[] {
      const methods = new Set<string>();
      for (const r of routes.values()) if (r.pattern.test(path)) for (const m of r.methods) methods.add(m);
      return [...methods].sort();
    },
  };
}

/** The not-found handler: 405 with Allow when the path exists under other methods, else 404. */
export function notFoundHandler(table: { allowed(path: string): string[] }) {
  return (req: FastifyRequest, reply: FastifyReply): void => {
    const path = (req.raw.url ?? req.url).split('?')[0] ?? '/';
    const allowed = table.allowed(path);
    if (allowed.length > 0) {
      void reply.header('allow', allowed.join(', '));
      const message = `${req.method} is not allowed on ${shown(path)}; it takes ${allowed.join(', ')}`;
      return sendError(reply, new NoetlError('E_METHOD_NOT_ALLOWED', message));
    }
    sendError(reply, new NoetlError('E_ROUTE_NOT_FOUND', `no route ${req.method} ${shown(path)}`));
  };
}

/** A path as it may be echoed in a message: at most 200 characters, control characters escaped. */
function shown(path: string): string {
  const text = path.length > 200 ? `${path.slice(0, 200)}…` : path;
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
