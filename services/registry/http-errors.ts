/**
 * The one place where error codes meet HTTP: domain errors carry codes, this
 * handler maps them to status codes and a JSON body `{ error: { code, message } }`.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { NoetlError, type ErrorCode } from '../../common/errors.ts';
import type { Logger } from '../../platform/log/logger.ts';

const STATUS: Partial<Record<ErrorCode, number>> = {
  E_PRODUCT_NOT_FOUND: 404,
  E_EXECUTION_NOT_FOUND: 404,
  E_PLAYBOOK_NOT_FOUND: 404,
  E_REQUEST_INVALID: 400,
  E_PLAYBOOK_INVALID: 422,
  E_PRODUCT_NOT_PUBLISHED: 409,
  E_NO_MATCHING_POOL: 422,
  E_WORKLOAD_INVALID: 422,
  E_WORKLOAD_TOO_LARGE: 413,
  E_BUS_UNAVAILABLE: 503,
  E_MESSAGE_TOO_LARGE: 413,
};

export function errorHandler(log: Logger) {
  return (error: FastifyError | NoetlError, _req: FastifyRequest, reply: FastifyReply): void => {
    if (error instanceof NoetlError) {
      const status = STATUS[error.code] ?? 500;
      if (status >= 500) log.error('request failed', { code: error.code, error: error.message });
      void reply.status(status).send({ error: { code: error.code, message: error.message } });
      return;
    }
    if (error.validation) {
      void reply.status(400).send({ error: { code: 'E_REQUEST_INVALID', message: error.message } });
      return;
    }
    const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    if (status >= 500) log.error('request failed', { error: error.message });
    void reply.status(status).send({ error: { code: status >= 500 ? 'E_INTERNAL' : 'E_REQUEST_INVALID', message: status >= 500 ? 'internal error' : error.message } });
  };
}
