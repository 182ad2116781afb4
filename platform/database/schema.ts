/** Kysely table types for the tables created by `migrations/`. */
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T = unknown> = ColumnType<T, string, string>;

export interface DomainsTable {
  name: string;
  description: string | null;
  owners: Json<string[]>;
  updated_at: Timestamp;
}

export interface ProductsTable {
  id: string;
  domain: string;
  name: string;
  description: string | null;
  owners: Json<string[]>;
  status: string;
  contract_version: string;
  current_materialization_id: string | null;
  updated_at: Timestamp;
}

export interface ContractVersionsTable {
  product_id: string;
  version: string;
  sha256: string;
  body: Json;
  source: string;
  file: string;
  created_at: Timestamp;
}

export interface PlaybooksTable {
  ref: string;
  domain: string;
  name: string;
  description: string | null;
  current_sha: string;
  updated_at: Timestamp;
}

export interface PlaybookVersionsTable {
  ref: string;
  sha256: string;
  source: string;
  file: string;
  created_at: Timestamp;
}

export interface ExecutionsTable {
  id: string;
  playbook_ref: string;
  playbook_sha: string;
  status: string;
  workload: Json<Record<string, unknown>>;
  error: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  started_at: Timestamp;
  finished_at: Timestamp | null;
  parent_id: ColumnType<string | null, string | null | undefined, never>;
  parent_command: ColumnType<ParentCommand | null, string | null | undefined, never>;
}

/** The parent step a child execution answers (see migrations/004). */
export interface ParentCommand {
  executionId: string;
  commandId: string;
  step: string;
  attempt: number;
  run?: number;
  iteration?: number;
}

export interface EventsTable {
  seq: Generated<string>;
  event_id: string;
  execution_id: string;
  type: string;
  step: string | null;
  payload: Json<Record<string, unknown>>;
  at: Timestamp;
}

export interface ArtifactsTable {
  uri: string;
  execution_id: string;
  step: string;
  format: string;
  schema: Json<{ name: string; type: string }[]>;
  rows: ColumnType<string, number, number>;
  bytes: ColumnType<string, number, number>;
  sha256: string;
  state: 'staged' | 'published';
  created_at: Timestamp;
}

export interface MaterializationsTable {
  id: string;
  product_id: string;
  execution_id: string;
  step: string;
  contract_version: string;
  artifact_uri: string;
  status: 'published' | 'rejected';
  rows: ColumnType<string, number, number>;
  created_at: Timestamp;
}

export interface QualityResultsTable {
  id: Generated<string>;
  materialization_id: string;
  product_id: string;
  check_id: string;
  title: string;
  column_name: string | null;
  severity: string;
  passed: boolean;
  observed: number | null;
  expected: string;
  extras: Json<Record<string, unknown>>;
  created_at: Timestamp;
}

export interface LineageEventsTable {
  id: Generated<string>;
  run_id: string;
  event_type: string;
  job_namespace: string;
  job_name: string;
  event_time: Timestamp;
  event: Json;
  event_key: string | null;
  producer: string | null;
}

export interface LineageNodesTable {
  namespace: string;
  name: string;
  facets: Json<Record<string, unknown>>;
  first_seen: Timestamp;
  last_seen: Timestamp;
}

export interface LineageColumnEdgesTable {
  src_namespace: string;
  src_name: string;
  src_column: string;
  job_namespace: string;
  job_name: string;
  dst_namespace: string;
  dst_name: string;
  dst_column: string;
  transformation: string;
  first_seen: Timestamp;
  last_seen: Timestamp;
}

export interface LineageEdgesTable {
  src_namespace: string;
  src_name: string;
  job_namespace: string;
  job_name: string;
  dst_namespace: string;
  dst_name: string;
  first_seen: Timestamp;
  last_seen: Timestamp;
}

/** Events for an execution the database does not know, kept for inspection (see migrations/005). */
export interface UnknownEventsTable {
  event_id: string;
  execution_id: string;
  subject: string;
  type: string | null;
  payload: string;
  deliveries: number;
  received_at: Timestamp;
}

export interface Schema {
  domains: DomainsTable;
  products: ProductsTable;
  contract_versions: ContractVersionsTable;
  playbooks: PlaybooksTable;
  playbook_versions: PlaybookVersionsTable;
  executions: ExecutionsTable;
  events: EventsTable;
  artifacts: ArtifactsTable;
  materializations: MaterializationsTable;
  quality_results: QualityResultsTable;
  lineage_events: LineageEventsTable;
  lineage_edges: LineageEdgesTable;
  lineage_datasets: LineageNodesTable;
  lineage_jobs: LineageNodesTable;
  lineage_column_edges: LineageColumnEdgesTable;
  unknown_events: UnknownEventsTable;
}
