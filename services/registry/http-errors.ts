/**
 * The one place where error codes meet HTTP: domain errors carry codes, this
 * handler maps them to status codes and a JSON body
 * `{ error: { code, message, details? } }`. Fastify's own errors (a body too
 * large, a content type no parser takes, a validation failure, a bad URL) are
 * given codes of the catalogue here too, so no answer leaves in another shape.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { REAL_DATE_TIME } from '../../common/date-time.ts';
import { NoetlError, type ErrorCode } from '../../common/errors.ts';
import type { Logger } from '../../platform/log/logger.ts';

const STATUS: Partial<Record<ErrorCode, number>> = {
  E_PRODUCT_NOT_FOUND: 404,
  E_EXECUTION_NOT_FOUND: 404,
  E_PLAYBOOK_NOT_FOUND: 404,
  E_ROUTE_NOT_FOUND: 404,
  E_REQUEST_INVALID: 400,
  E_LINEAGE_LIMIT: 400,
  E_METHOD_NOT_ALLOWED: 405,
  E_EXECUTION_FINISHED: 409,
  E_REQUEST_TOO_LARGE: 413,
  E_URL_TOO_LONG: 414,
  E_UNSUPPORTED_MEDIA_TYPE: 415,
  E_HEADERS_TOO_LARGE: 431,
  E_PLAYBOOK_INVALID: 422,
  E_PRODUCT_NOT_PUBLISHED: 409,
  E_NO_MATCHING_POOL: 422,
  E_WORKLOAD_INVALID: 422,
  E_WORKLOAD_TOO_LARGE: 413,
  E_BUS_UNAVAILABLE: 503,
  E_MESSAGE_TOO_LARGE: 413,
  E_DATABASE_UNAVAILABLE: 503,
};

/** The status an error code answers with. */
export function statusOf(code: ErrorCode): number {
  return STATUS[code] ?? 500;
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

/** The body of every error answer. Details (where the problem is) go out with client errors only. */
export function errorBody(error: NoetlError): ErrorBody {
  const details = error.details !== undefined && statusOf(error.code) < 500 ? { details: error.details } : {};
  return { error: { code: error.code, message: error.message, ...details } };
}

/** Sends a coded error. */
export function sendError(reply: FastifyReply, error: NoetlError): void {
  void reply.status(statusOf(error.code)).send(errorBody(error));
}

export function errorHandler(log: Logger) {
  return (error: FastifyError | NoetlError, req: FastifyRequest, reply: FastifyReply): void => {
    const coded = error instanceof NoetlError ? error : fromFastify(error, req.routeOptions.bodyLimit);
    if (statusOf(coded.code) >= 500) {
      log.error('request failed', { code: coded.code, error: error.message });
      // An unexpected failure's message may hold anything (SQL, paths): it stays in the log.
      if (coded.code === 'E_INTERNAL') return sendError(reply, new NoetlError('E_INTERNAL', 'internal error'));
    }
    sendError(reply, coded);
  };
}

/** Errors fastify raises before a handler runs (routing, body parsing, validation), as coded errors. */
export function fromFastify(error: FastifyError, bodyLimit?: number): NoetlError {
  if (error.validation) return validationError(error);
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new NoetlError('E_REQUEST_TOO_LARGE', `the request body is larger than this route takes${limitText(bodyLimit)}`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new NoetlError('E_UNSUPPORTED_MEDIA_TYPE', 'the request body must be JSON (content-type application/json)');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new NoetlError('E_REQUEST_INVALID', 'body is empty, but its content-type says JSON', { details: { field: 'body' } });
    case 'FST_ERR_BAD_URL':
      return new NoetlError('E_REQUEST_INVALID', 'the URL is not valid percent-encoded UTF-8', { details: { field: 'path' } });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new NoetlError('E_URL_TOO_LONG', 'a path segment of the URL is longer than the server takes');
    default:
      break;
  }
  if (error instanceof SyntaxError) {
    return new NoetlError('E_REQUEST_INVALID', `body is not valid JSON: ${error.message}`, { details: { field: 'body' } });
  }
  const status = error.statusCode ?? 500;
  if (status === 413) return new NoetlError('E_REQUEST_TOO_LARGE', error.message);
  if (status === 415) return new NoetlError('E_UNSUPPORTED_MEDIA_TYPE', error.message);
  if (status >= 400 && status < 500) return new NoetlError('E_REQUEST_INVALID', error.message);
  return new NoetlError('E_INTERNAL', error.message, { cause: error });
}

const limitText = (bytes: number | undefined): string => (bytes === undefined ? '' : ` (${bytes} bytes)`);

/** A schema validation failure, naming the field: `body/workload`, `querystring/asOf`, `params/id`. */
function validationError(error: FastifyError): NoetlError {
  const first = error.validation?.[0];
  const part = error.validationContext ?? 'body';
  if (!first) return new NoetlError('E_REQUEST_INVALID', error.message, { details: { field: part } });
  const params = first.params as { additionalProperty?: string; missingProperty?: string };
  let field = `${part}${first.instancePath}`;
  let message = `${field} ${first.message ?? 'is invalid'}`;
  if (first.keyword === 'additionalProperties' && params.additionalProperty !== undefined) {
    field = `${field}/${params.additionalProperty}`;
    message = `${field} is not a field this route takes`;
  } else if (first.keyword === 'format' && (first.params as { format?: string }).format === 'date-time') {
    message = `${field} ${REAL_DATE_TIME}`;
  } else if (first.keyword === 'required' && params.missingProperty !== undefined) {
    field = `${field}/${params.missingProperty}`;
    message = `${field} is required`;
  }
  return new NoetlError('E_REQUEST_INVALID', message, { details: { field } });
}
