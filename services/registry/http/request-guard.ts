/**
 * The request line and headers checked before any handler runs: an HTTP/1.1
 * request names its host (Node's own check answers without a body, so it is
 * done here instead), the URL's length (414), and each path parameter, path
 * segment and query key and value (400, naming it): no NUL, no unpaired
 * surrogate, nothing longer than the limit. A NUL reaching a query would make
 * PostgreSQL fail; here it is the caller's mistake.
 */
import type { FastifyRequest } from 'fastify';
import { NoetlError } from '../../../common/errors.ts';
import { stringProblem } from './json-body.ts';
import { REQUEST_LIMITS } from './request-limits.ts';

function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The first problem of a request's line and headers, as a coded error, or undefined. */
export function requestProblem(req: FastifyRequest): NoetlError | undefined {
  if (req.raw.httpVersion === '1.1' && req.headers.host === undefined) return refused('headers/host', 'is required in an HTTP/1.1 request');
  const url = req.raw.url ?? req.url;
  const length = Buffer.byteLength(url, 'utf8');
  if (length > REQUEST_LIMITS.urlBytes) {
    return new NoetlError('E_URL_TOO_LONG', `the URL is ${length} bytes long; at most ${REQUEST_LIMITS.urlBytes} are taken`);
  }
  const limit = REQUEST_LIMITS.parameterLength;
  const params = (req.params ?? {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(params)) {
    if (name === '*') continue; // the not-found route's wildcard: the path segments below name the problem
    const problem = typeof value === 'string' ? stringProblem(value, limit) : undefined;
    if (problem) return refused(`params/${name}`, problem);
  }
  const [path = '', query = ''] = splitOnce(url, '?');
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const text = decoded(segments[i]!);
    if (text === undefined) return refused(`path segment ${i}`, 'is not valid percent-encoded UTF-8');
    const problem = stringProblem(text, limit);
    if (problem) return refused(`path segment ${i}`, problem);
  }
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const [rawKey = '', rawValue = ''] = splitOnce(pair, '=');
    const key = decoded(rawKey.replace(/\+/g, ' ')) ?? rawKey;
    const value = decoded(rawValue.replace(/\+/g, ' ')) ?? rawValue;
    const problem = stringProblem(key, limit) ?? stringProblem(value, limit);
    if (problem) return refused(`querystring/${printable(key)}`, problem);
  }
  return undefined;
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + 1)];
}

function refused(field: string, problem: string): NoetlError {
  return new NoetlError('E_REQUEST_INVALID', `${field} ${problem}`, { details: { field } });
}

/** A query key as it can be shown in a message: NULs spelt out, at most 100 characters. */
function printable(key: string): string {
  return key.replace(/\u0000/g, '\\u0000').slice(0, 100);
}
