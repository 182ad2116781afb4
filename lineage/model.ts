/**
 * The OpenLineage model (spec 2-0-2), the parts noetl emits and stores. Facets
 * are open records: unknown facets from other producers are kept as they are.
 */

export const OPENLINEAGE_SCHEMA_URL = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';
export const NOETL_PRODUCER = 'https://github.com/noetl/noetl/tree/main/typescript';

export type RunEventType = 'START' | 'RUNNING' | 'COMPLETE' | 'ABORT' | 'FAIL' | 'OTHER';

export type Facet = { _producer: string; _schemaURL: string } & Record<string, unknown>;

export interface DatasetRef {
  namespace: string;
  name: string;
}

export interface Dataset extends DatasetRef {
  facets?: Record<string, Facet>;
}

export interface JobRef {
  namespace: string;
  name: string;
}

export interface RunEvent {
  eventType: RunEventType;
  eventTime: string;
  producer: string;
  schemaURL: string;
  run: { runId: string; facets?: Record<string, Facet> };
  job: JobRef & { facets?: Record<string, Facet> };
  inputs: Dataset[];
  outputs: Dataset[];
}

/** A dataset's identity as one string, `namespace/name`, for graph keys. */
export function datasetKey(d: DatasetRef): string {
  return `${d.namespace}/${d.name}`;
}
