/**
 * `GET /health`: whether this server can do its work, part by part. The
 * database answers a round trip and the bus a ping, each within a deadline;
 * either down makes the answer 503 with the code of the first part down, so a
 * load balancer and a person both see which.
 */
import type { FastifyInstance } from 'fastify';
import { asNoetlError, NoetlError, type ErrorCode } from '../../../common/errors.ts';
import type { Db } from '../../../platform/index.ts';
import { errorBody } from '../http-errors.ts';

/** What the health check needs of the bus (the Bus port's probe). */
export interface BusProbe {
  ping(): Promise<void>;
}

type Check = 'ok' | 'down';

const DEADLINE_MS = 2_000;

async function probe(work: () => Promise<unknown>, code: ErrorCode, what: string): Promise<NoetlError | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    const message = `${what} did not answer within ${DEADLINE_MS} ms`;
    timer = setTimeout(() => reject(new NoetlError(code, message)), DEADLINE_MS);
  });
  try {
    await Promise.race([work(), late]);
    return undefined;
  } catch (e) {
    const error = asNoetlError(e, code);
    // Whatever the adapter's code, health reports the part as unreachable; the cause stays in the message.
    return error.code === code ? error : new NoetlError(code, `${what} cannot be reached: ${error.message}`);
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoute(db: Db, mode: 'embedded' | 'distributed', bus: BusProbe | undefined) {
  return (app: FastifyInstance): Promise<void> => {
    app.get('/health', async (_req, reply) => {
      const [database, busDown] = await Promise.all([
        probe(() => db.selectFrom('domains').select('name').limit(1).execute(), 'E_DATABASE_UNAVAILABLE', 'the database'),
        bus ? probe(() => bus.ping(), 'E_BUS_UNAVAILABLE', 'the bus') : Promise.resolve(undefined),
      ]);
      const checks: Record<string, Check> = { database: database ? 'down' : 'ok' };
      if (bus) checks.bus = busDown ? 'down' : 'ok';
      const down = database ?? busDown;
      if (!down) return { status: 'ok', mode, checks };
      return reply.status(503).send({ status: 'down', mode, checks, ...errorBody(down) });
    });
    return Promise.resolve();
  };
}
