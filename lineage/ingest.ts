/**
 * Ingesting OpenLineage events from any producer: validation against noetl's
 * own event schema (errors carry the JSON path), an idempotency key, and the
 * graph an event adds — datasets, jobs, dataset edges from each input to each
 * output of a completed run, and column edges from the columnLineage facet.
 * Validation covers everything graph extraction reads, so a valid event always
 * yields its graph. Pure: storing is the caller's job.
 */
import { createHash } from 'node:crypto';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { isRealDateTime, REAL_DATE_TIME } from '../common/date-time.ts';
import schema from './schema/openlineage-event.schema.json' with { type: 'json' };
import { edgesOfRun, type LineageEdge } from './graph.ts';
import type { DatasetRef, JobRef } from './model.ts';

const ajv = new Ajv2020({ allErrors: false, strict: false });
addFormats.default(ajv);
// JSON Schema's date-time takes year 0000 and offsets PostgreSQL cannot store.
ajv.addFormat('date-time', { type: 'string', validate: isRealDateTime });
const validate = ajv.compile(schema);

/** Any OpenLineage event noetl accepts (run, dataset or job event); facets stay as sent. */
export type AnyLineageEvent = Record<string, unknown> & { eventTime: string; producer: string };

export interface ValidationProblem {
  /** JSON pointer of the offending value, e.g. `/run/runId`. */
  path: string;
  message: string;
}

/** Undefined when the event is valid, else the first problem and where it is. */
export function validateEvent(event: unknown): ValidationProblem | undefined {
  if (validate(event)) return undefined;
  // The if/then/else of the schema reports "must match then schema" beside the real error: keep the real one.
  const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'if');
  const best = [...errors].sort((a, b) => b.instancePath.length - a.instancePath.length)[0];
  if (!best) return { path: '/', message: 'is not an OpenLineage event' };
  return problemOf(best);
}

function problemOf(error: ErrorObject): ValidationProblem {
  const at = error.instancePath || '';
  const params = error.params as { missingProperty?: string; additionalProperty?: string; format?: string };
  if (error.keyword === 'additionalProperties' && params.additionalProperty !== undefined) {
    const message = 'is not a field of an OpenLineage event here (facets go under "facets")';
    return { path: `${at}/${escapePointer(params.additionalProperty)}`, message };
  }
  if (error.keyword === 'required' && params.missingProperty !== undefined) {
    return { path: at || '/', message: `${error.message ?? 'is invalid'} (missing "${params.missingProperty}")` };
  }
  if (error.keyword === 'format' && params.format === 'date-time') {
    return { path: at || '/', message: `must match format "date-time": ${REAL_DATE_TIME}` };
  }
  return { path: at || '/', message: error.message ?? 'is invalid' };
}

/** A key as a JSON-pointer token (RFC 6901). */
export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The same event sent twice has the same key. */
export function eventKey(event: unknown): string {
  return createHash('sha256').update(canonical(event)).digest('hex');
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export interface ColumnEdge {
  from: DatasetRef & { column: string };
  job: JobRef;
  to: DatasetRef & { column: string };
  /** `DIRECT/IDENTITY`, `INDIRECT/FILTER`, ... */
  transformation: string;
}

export interface EventGraph {
  datasets: (DatasetRef & { facets: Record<string, unknown> })[];
  job: (JobRef & { facets: Record<string, unknown> }) | undefined;
  edges: LineageEdge[];
  columnEdges: ColumnEdge[];
}

type Ds = DatasetRef & { facets?: Record<string, unknown> };

/** The column-lineage facet as the schema admits it. */
export interface ColumnLineageFacet {
  fields: Record<string, { inputFields: InputField[] }>;
  dataset?: InputField[];
}

export interface InputField {
  namespace: string;
  name: string;
  field: string;
  transformations?: { type: string; subtype?: string }[];
}

/** Whether an event adds edges: completed runs (and static job events) do, as OpenLineage intends. */
export function addsEdges(event: AnyLineageEvent): boolean {
  return event.job !== undefined && (event.run === undefined || event.eventType === 'COMPLETE');
}

/** What a valid event adds to the graph. */
export function graphOf(event: AnyLineageEvent): EventGraph {
  const inputs = ((event.inputs as Ds[] | undefined) ?? []).map(ref);
  const outputs = ((event.outputs as Ds[] | undefined) ?? []).map(ref);
  const single = event.dataset as Ds | undefined;
  const jobRaw = event.job as (JobRef & { facets?: Record<string, unknown> }) | undefined;
  const job = jobRaw ? { namespace: jobRaw.namespace, name: jobRaw.name, facets: jobRaw.facets ?? {} } : undefined;
  const datasets = [...((event.inputs as Ds[] | undefined) ?? []), ...((event.outputs as Ds[] | undefined) ?? []), ...(single ? [single] : [])].map((d) => ({ ...ref(d), facets: d.facets ?? {} }));
  const completes = addsEdges(event);
  const edges = job && completes ? edgesOfRun(inputs, job, outputs) : [];
  const columnEdges: ColumnEdge[] = [];
  if (job && completes) {
    for (const out of (event.outputs as Ds[] | undefined) ?? []) {
      const facet = out.facets?.columnLineage as ColumnLineageFacet | undefined;
      for (const [column, spec] of Object.entries(facet?.fields ?? {})) {
        for (const f of spec.inputFields) {
          for (const t of transformationsOf(f)) columnEdges.push({ from: { namespace: f.namespace, name: f.name, column: f.field }, job, to: { ...ref(out), column }, transformation: t });
        }
      }
    }
  }
  return { datasets, job, edges, columnEdges };
}

export function transformationsOf(f: InputField): string[] {
  const t = f.transformations ?? [];
  return t.length === 0 ? ['DIRECT/UNKNOWN'] : t.map((x) => `${x.type}/${x.subtype ?? 'UNKNOWN'}`);
}

function ref(d: DatasetRef): DatasetRef {
  return { namespace: d.namespace, name: d.name };
}
