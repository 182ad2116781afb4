/**
 * Schema validation of requests, with two Ajv instances instead of fastify's
 * default one: bodies are validated as they are (no type coercion, and an
 * unknown field is an error rather than silently removed), while the URL's
 * parts (query, params, headers) are coerced from text, as they must be.
 * Both know `date-time` as a real, storable moment.
 */
import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { isRealDateTime } from '../../../common/date-time.ts';

function ajvWith(options: Options): Ajv {
  const ajv = new Ajv({ allErrors: false, strict: false, useDefaults: true, removeAdditional: false, ...options });
  addFormats.default(ajv);
  ajv.addFormat('date-time', { type: 'string', validate: isRealDateTime });
  return ajv;
}

const bodies = ajvWith({ coerceTypes: false });
const urlParts = ajvWith({ coerceTypes: 'array' });

/** Fastify's validator compiler: bodies strictly, URL parts with coercion. */
export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodies : urlParts).compile(schema as object);
