/**
 * Per-event caps on ingested OpenLineage events, so one event cannot flood the
 * graph (200 inputs × 200 outputs once made 40,000 edges from 17 KB) or carry a
 * name too long for an index entry. Names are capped in UTF-8 bytes so that the
 * widest key of the graph (a column edge: three namespaces, three names, two
 * columns and a transformation) always fits in one PostgreSQL index entry
 * (2,704 bytes): 3 × 200 + 3 × 500 + 2 × 128 + 2 × 32 = 2,420. Pure.
 */
import { addsEdges, escapePointer, transformationsOf, type AnyLineageEvent, type ColumnLineageFacet } from './ingest.ts';

export const LINEAGE_LIMITS = {
  /** The event as JSON, in bytes. */
  eventBytes: 1024 * 1024,
  /** Inputs plus outputs of one event. */
  datasets: 1_000,
  /** Dataset edges one event adds: inputs × outputs. */
  datasetEdges: 10_000,
  /** Column edges one event adds: every input field of every output column, per transformation. */
  columnEdges: 10_000,
  /** A dataset's or job's namespace, in UTF-8 bytes. */
  namespaceBytes: 200,
  /** A dataset's or job's name, in UTF-8 bytes. */
  nameBytes: 500,
  /** A column (field) name, in UTF-8 bytes. */
  fieldBytes: 128,
  /** A column-lineage transformation's type or subtype, in UTF-8 bytes. */
  transformationBytes: 32,
} as const;

export interface LimitProblem {
  /** `size`: the event is too large (413); `count`: it adds too much to the graph; `length`: a name is too long. */
  kind: 'size' | 'count' | 'length';
  /** JSON pointer of what is over the limit. */
  path: string;
  message: string;
}

type Named = { namespace: string; name: string };
type Output = Named & { facets?: { columnLineage?: ColumnLineageFacet } };

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/** Undefined when a valid event is within every cap, else the first cap it breaks. */
export function eventLimitProblem(event: AnyLineageEvent): LimitProblem | undefined {
  const size = bytes(JSON.stringify(event));
  if (size > LINEAGE_LIMITS.eventBytes) {
    return { kind: 'size', path: '/', message: `is ${size} bytes as JSON; an event may have at most ${LINEAGE_LIMITS.eventBytes}` };
  }
  const inputs = (event.inputs as Named[] | undefined) ?? [];
  const outputs = (event.outputs as Output[] | undefined) ?? [];
  return countProblem(event, inputs, outputs) ?? nameProblem(event, inputs, outputs);
}

function countProblem(event: AnyLineageEvent, inputs: Named[], outputs: Output[]): LimitProblem | undefined {
  const limits = LINEAGE_LIMITS;
  if (inputs.length + outputs.length > limits.datasets) {
    const message = `has ${inputs.length} inputs and ${outputs.length} outputs; an event may name at most ${limits.datasets} datasets`;
    return { kind: 'count', path: '/outputs', message };
  }
  if (!addsEdges(event)) return undefined;
  if (inputs.length * outputs.length > limits.datasetEdges) {
    const edges = `${inputs.length} × ${outputs.length} = ${inputs.length * outputs.length}`;
    const message = `would add ${edges} dataset edges; an event may add at most ${limits.datasetEdges}`;
    return { kind: 'count', path: '/outputs', message };
  }
  let columnEdges = 0;
  for (const out of outputs) {
    for (const spec of Object.values(out.facets?.columnLineage?.fields ?? {})) {
      for (const field of spec.inputFields) columnEdges += transformationsOf(field).length;
    }
  }
  if (columnEdges > limits.columnEdges) {
    const message = `would add ${columnEdges} column edges; an event may add at most ${limits.columnEdges}`;
    return { kind: 'count', path: '/outputs', message };
  }
  return undefined;
}

function nameProblem(event: AnyLineageEvent, inputs: Named[], outputs: Output[]): LimitProblem | undefined {
  const checks: [path: string, value: string, limit: number][] = [];
  const named = (path: string, n: Named | undefined): void => {
    if (!n) return;
    checks.push([`${path}/namespace`, n.namespace, LINEAGE_LIMITS.namespaceBytes]);
    checks.push([`${path}/name`, n.name, LINEAGE_LIMITS.nameBytes]);
  };
  named('/job', event.job as Named | undefined);
  named('/dataset', event.dataset as Named | undefined);
  inputs.forEach((d, i) => named(`/inputs/${i}`, d));
  outputs.forEach((d, i) => {
    named(`/outputs/${i}`, d);
    const at = `/outputs/${i}/facets/columnLineage/fields`;
    for (const [column, spec] of Object.entries(d.facets?.columnLineage?.fields ?? {})) {
      const columnAt = `${at}/${escapePointer(column)}`;
      checks.push([columnAt, column, LINEAGE_LIMITS.fieldBytes]);
      spec.inputFields.forEach((f, j) => {
        named(`${columnAt}/inputFields/${j}`, f);
        checks.push([`${columnAt}/inputFields/${j}/field`, f.field, LINEAGE_LIMITS.fieldBytes]);
        (f.transformations ?? []).forEach((t, k) => {
          const tAt = `${columnAt}/inputFields/${j}/transformations/${k}`;
          checks.push([`${tAt}/type`, t.type, LINEAGE_LIMITS.transformationBytes]);
          if (t.subtype !== undefined) checks.push([`${tAt}/subtype`, t.subtype, LINEAGE_LIMITS.transformationBytes]);
        });
      });
    }
  });
  for (const [path, value, limit] of checks) {
    const length = bytes(value);
    if (length > limit) return { kind: 'length', path, message: `is ${length} bytes long (UTF-8); at most ${limit} are allowed` };
  }
  return undefined;
}
