/**
 * Builders of OpenLineage run events for noetl's executions and steps. Pure:
 * they take what happened and return the event; sending it is a transport's job.
 * A step's run names its execution's run as parent, so the two join.
 */
import { NOETL_PRODUCER, OPENLINEAGE_SCHEMA_URL, type Dataset, type DatasetRef, type Facet, type RunEvent, type RunEventType } from './model.ts';
import { executionJob, stepJob, uuidFromName } from './naming.ts';
import type { ColumnLineage } from './sql-column-lineage.ts';

const FACETS = 'https://openlineage.io/spec/facets';
const facet = (schema: string, body: Record<string, unknown>): Facet => ({ _producer: NOETL_PRODUCER, _schemaURL: `${FACETS}/${schema}`, ...body });

export interface ColumnType {
  name: string;
  type: string;
}

export interface ExecutionRun {
  executionId: string;
  domain: string;
  playbook: string;
}

export interface StepRun extends ExecutionRun {
  step: string;
  attempt: number;
  /** Which run of the step (in a cycle) and which loop item, e.g. `@2[3]`; empty for a plain step. */
  unit?: string;
  toolKind: string;
}

export interface StepRunDetails {
  eventType: RunEventType;
  eventTime: string;
  inputs: { dataset: DatasetRef; schema?: ColumnType[] }[];
  output?: {
    dataset: DatasetRef;
    schema: ColumnType[];
    rows: number;
    bytes: number;
    columnLineage?: ColumnLineage;
    /** For a product: who owns it, what it is, and how its quality gate went. */
    product?: { owners: string[]; description: string | undefined; assertions: { assertion: string; success: boolean; column?: string }[] };
  };
  /** Datasets the step wrote outside noetl's own tables (a ClickHouse table, a Qdrant collection). */
  written?: { dataset: DatasetRef; schema: ColumnType[]; rows: number }[];
  sql?: string;
  error?: string;
}

/** The run id of a step attempt: stable, so START and COMPLETE name the same run. */
export function stepRunId(run: StepRun): string {
  return uuidFromName(`${run.executionId}/${run.step}${run.unit ?? ''}/${run.attempt}`);
}

export function stepRunEvent(run: StepRun, d: StepRunDetails): RunEvent {
  const runFacets: Record<string, Facet> = {
    parent: facet('1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet', { run: { runId: run.executionId }, job: executionJob(run.domain, run.playbook) }),
    processing_engine: facet('1-1-1/ProcessingEngineRunFacet.json#/$defs/ProcessingEngineRunFacet', { name: run.toolKind, version: 'noetl' }),
  };
  if (d.error !== undefined) {
    runFacets.errorMessage = facet('1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet', { message: d.error, programmingLanguage: run.toolKind === 'duckdb' ? 'SQL' : 'noetl' });
  }
  const jobFacets: Record<string, Facet> = {
    jobType: facet('2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet', { processingType: 'BATCH', integration: 'NOETL', jobType: 'STEP' }),
  };
  if (d.sql !== undefined) jobFacets.sql = facet('1-1-0/SQLJobFacet.json#/$defs/SQLJobFacet', { query: d.sql, dialect: run.toolKind });
  const outputs: Dataset[] = d.output
    ? [
        {
          ...d.output.dataset,
          facets: {
            schema: schemaFacet(d.output.schema),
            ...(d.output.columnLineage ? { columnLineage: facet('1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet', { fields: d.output.columnLineage.fields, dataset: d.output.columnLineage.dataset }) } : {}),
            ...(d.output.product ? productFacets(d.output.product) : {}),
          },
          outputFacets: { outputStatistics: facet('1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet', { rowCount: d.output.rows, size: d.output.bytes }) },
        } as Dataset,
      ]
    : [];
  for (const w of d.written ?? []) {
    outputs.push({
      ...w.dataset,
      facets: { schema: schemaFacet(w.schema) },
      outputFacets: { outputStatistics: facet('1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet', { rowCount: w.rows }) },
    } as Dataset);
  }
  return {
    eventType: d.eventType,
    eventTime: d.eventTime,
    producer: NOETL_PRODUCER,
    schemaURL: OPENLINEAGE_SCHEMA_URL,
    run: { runId: stepRunId(run), facets: runFacets },
    job: { ...stepJob(run.domain, run.playbook, run.step), facets: jobFacets },
    inputs: d.inputs.map((i) => (i.schema ? { ...i.dataset, facets: { schema: schemaFacet(i.schema) } } : { ...i.dataset })),
    outputs,
  };
}

export function executionRunEvent(run: ExecutionRun, eventType: RunEventType, eventTime: string, error?: string): RunEvent {
  const facets: Record<string, Facet> = {};
  if (error !== undefined) facets.errorMessage = facet('1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet', { message: error, programmingLanguage: 'noetl' });
  return {
    eventType,
    eventTime,
    producer: NOETL_PRODUCER,
    schemaURL: OPENLINEAGE_SCHEMA_URL,
    run: { runId: run.executionId, facets },
    job: { ...executionJob(run.domain, run.playbook), facets: { jobType: facet('2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet', { processingType: 'BATCH', integration: 'NOETL', jobType: 'PLAYBOOK' }) } },
    inputs: [],
    outputs: [],
  };
}

function schemaFacet(columns: ColumnType[]): Facet {
  return facet('1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet', { fields: columns.map((c, i) => ({ name: c.name, type: c.type, ordinal_position: i + 1 })) });
}

function productFacets(p: NonNullable<NonNullable<StepRunDetails['output']>['product']>): Record<string, Facet> {
  return {
    ownership: facet('1-0-1/OwnershipDatasetFacet.json#/$defs/OwnershipDatasetFacet', { owners: p.owners.map((name) => ({ name, type: 'owner' })) }),
    ...(p.description ? { documentation: facet('1-1-0/DocumentationDatasetFacet.json#/$defs/DocumentationDatasetFacet', { description: p.description }) } : {}),
    dataQualityAssertions: facet('1-1-0/DataQualityAssertionsDatasetFacet.json#/$defs/DataQualityAssertionsDatasetFacet', { assertions: p.assertions }),
  };
}
