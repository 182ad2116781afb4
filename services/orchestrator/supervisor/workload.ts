/**
 * A run's workload, checked before anything is recorded: its size (it travels
 * in every command, and a bus message has a limit), and its shape against the
 * playbook's `workload_schema` — or, for a playbook without one, a schema
 * derived from its defaults: only the keys the defaults have, each with the
 * JSON type of its default. A caller's value is data; it is never more keys or
 * other types than the playbook expects.
 */
import { Ajv2019 } from 'ajv/dist/2019.js';
import { NoetlError } from '../../../common/errors.ts';
import type { Playbook } from '../dsl/index.ts';

const ajv = new Ajv2019({ allErrors: true, strict: false });
const compiled = new Map<string, ReturnType<typeof ajv.compile>>();

/** The largest workload a run may have, as JSON: far below a bus message's 1 MiB, which a command also fills with results. */
export const MAX_WORKLOAD_BYTES = 256 * 1024;

/** The workload of a run must be small enough and fit the playbook's workload schema, declared or derived. */
export function checkWorkload(playbook: Playbook, workload: Record<string, unknown>): void {
  const bytes = Buffer.byteLength(JSON.stringify(workload));
  if (bytes > MAX_WORKLOAD_BYTES) {
    throw new NoetlError(
      'E_WORKLOAD_TOO_LARGE',
      `the workload of ${playbook.ref} is ${bytes} bytes as JSON, over the limit of ${MAX_WORKLOAD_BYTES}: pass large data as a table (a product or a step's result), not in the workload`,
    );
  }
  const schema = playbook.workloadSchema ?? derivedSchema(playbook.workload);
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    if (compiled.size >= 1_000) compiled.clear();
    compiled.set(key, (validate = ajv.compile(schema)));
  }
  if (validate(workload)) return;
  const problems = (validate.errors ?? []).map(describe);
  const what = playbook.workloadSchema
    ? 'its workload_schema'
    : 'the keys and types of its workload defaults (it has no workload_schema)';
  throw new NoetlError(
    'E_WORKLOAD_INVALID',
    `the workload of ${playbook.ref} does not fit ${what}: ${problems.join('; ')}`,
    { details: { problems } },
  );
}

/** The schema a playbook without `workload_schema` gets: its defaults' keys, each with its default's JSON type. */
export function derivedSchema(defaults: Record<string, unknown>): Record<string, unknown> {
  const properties = Object.fromEntries(Object.entries(defaults).map(([key, value]) => [key, typeOf(value)]));
  return { type: 'object', additionalProperties: false, properties };
}

function typeOf(value: unknown): Record<string, unknown> {
  if (value === null) return {};
  if (Array.isArray(value)) return { type: 'array' };
  if (typeof value === 'number') return { type: 'number' };
  return { type: typeof value };
}

function describe(e: {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}): string {
  const at = `workload${e.instancePath.replaceAll('/', '.')}`;
  if (e.keyword === 'additionalProperties') return `${at} has no key "${String(e.params.additionalProperty)}"`;
  return `${at} ${e.message ?? 'is invalid'}`;
}
