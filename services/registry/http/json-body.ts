/**
 * Request bodies: JSON (every route) and NDJSON (lineage batches). The text's
 * nesting is measured before it is parsed, so a body 10,000 levels deep is
 * refused without recursing; after parsing, every string and key is checked
 * once: no NUL (PostgreSQL cannot store it), no unpaired surrogate, no
 * `__proto__` key, nothing longer than the limit. Each refusal is a 400 that
 * names the field by its JSON pointer.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { NoetlError } from '../../../common/errors.ts';
import { escapePointer } from '../../../lineage/index.ts';
import { REQUEST_LIMITS } from './request-limits.ts';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The offset where JSON text first nests deeper than `max`, or undefined. Strings are skipped; no recursion. */
export function depthOverflow(text: string, max: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return undefined;
}

/** Why a string cannot be taken, or undefined. */
export function stringProblem(text: string, limit: number = REQUEST_LIMITS.stringLength): string | undefined {
  if (text.includes('\u0000')) return 'contains a NUL character (\\u0000), which cannot be stored';
  if (text.length > limit) return `is ${text.length} characters long; at most ${limit} are allowed`;
  if (LONE_SURROGATE.test(text)) return 'contains an unpaired UTF-16 surrogate (not valid Unicode)';
  return undefined;
}

/** The first string or key of a parsed body that cannot be taken, with its JSON pointer. Iterative. */
export function bodyValueProblem(value: unknown, root = ''): { field: string; message: string } | undefined {
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length > 0) {
    const [current, pointer] = stack.pop()!;
    if (typeof current === 'string') {
      const problem = stringProblem(current);
      if (problem) return { field: pointer || '/', message: problem };
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push([current[i], `${pointer}/${i}`]);
    } else if (current !== null && typeof current === 'object') {
      const keys = Object.keys(current);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        const at = `${pointer}/${escapePointer(key)}`;
        if (key === '__proto__') return { field: at, message: 'is a key no object may have (it would set the prototype)' };
        const problem = stringProblem(key);
        if (problem) return { field: at, message: `as a key ${problem}` };
        stack.push([(current as Record<string, unknown>)[key], at]);
      }
    }
  }
  return undefined;
}

function invalid(field: string, message: string): NoetlError {
  const named = `body${field === '/' ? '' : field}`;
  return new NoetlError('E_REQUEST_INVALID', `${named} ${message}`, { details: { field: named } });
}

/** One JSON document, checked before and after parsing; `at` prefixes the pointers (an NDJSON line's index). */
export function parseCheckedJson(text: string, at = ''): unknown {
  const tooDeep = depthOverflow(text, REQUEST_LIMITS.jsonDepth);
  if (tooDeep !== undefined) {
    const message = `nests arrays and objects deeper than ${REQUEST_LIMITS.jsonDepth} levels (at character ${tooDeep})`;
    throw invalid(at || '/', message);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw invalid(at || '/', `is not valid JSON: ${(e as Error).message}`);
  }
  const problem = bodyValueProblem(value, at);
  if (problem) throw invalid(problem.field, problem.message);
  return value;
}

/** NDJSON: one JSON document per non-empty line, as an array. */
export function parseCheckedNdjson(text: string): unknown[] {
  const documents: unknown[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      documents.push(parseCheckedJson(line, `/${documents.length}`));
    } catch (e) {
      const error = e as NoetlError;
      const message = `line ${index + 1} of the NDJSON body: ${error.message}`;
      throw new NoetlError('E_REQUEST_INVALID', message, { details: error.details });
    }
  });
  return documents;
}

type Done = (error: Error | null, body?: unknown) => void;

function parser(parse: (text: string) => unknown) {
  return (_req: FastifyRequest, text: string | Buffer, done: Done): void => {
    const body = typeof text === 'string' ? text : text.toString('utf8');
    if (body.length === 0) return done(invalid('/', 'is empty, but its content-type says JSON'));
    try {
      done(null, parse(body));
    } catch (e) {
      done(e as Error);
    }
  };
}

/** JSON is the only body type the API takes (plain text is no longer parsed): every other type gets 415. */
export function installJsonParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parser((text) => parseCheckedJson(text)));
}

/** NDJSON bodies, for the routes of the plugin that installs it. */
export function installNdjsonParser(app: FastifyInstance, bodyLimit: number): void {
  app.addContentTypeParser('application/x-ndjson', { parseAs: 'string', bodyLimit }, parser(parseCheckedNdjson));
}
