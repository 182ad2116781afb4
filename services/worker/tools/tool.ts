/**
 * The tool port. A tool gets a context (abort signal, heartbeat, logger, the
 * execution scope, the references it may read, the store to write to) and
 * returns a small JSON value or a reference to a table. Never rows.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { AddressAllowlist } from '../../../common/address-policy.ts';
import type { ColumnLineage, DatasetRef } from '../../../lineage/index.ts';
import type { PythonSandboxMode } from '../../../platform/config/config.ts';
import type { Logger } from '../../../platform/log/logger.ts';
import type { StepCommand, StepResult, TableRef } from '../../../platform/bus/messages.ts';
import type { ArtifactStore } from '../../../platform/index.ts';
import { datasetOfStep } from '../step-lineage.ts';

export interface ToolContext {
  signal: AbortSignal;
  /** When the step's timeout ends (epoch ms), if it has one: templates stop rendering by then too. */
  deadline?: number;
  heartbeat: () => void;
  log: Logger;
  command: StepCommand;
  artifacts: ArtifactStore;
  /**
   * A connection to this command's own DuckDB database (made on first use; close
   * each connection): it reads only the command's inputs and writes only beside `outputPath`.
   */
  duckdb: () => Promise<DuckDBConnection>;
  /** Where a table output of this attempt is to be written; its folder is the only place the step may write. */
  outputPath: string;
  /** The value of a credential the playbook's keychain declares, from this worker's vault. Never log it. */
  credential: (name: string) => string;
  /** What a tool learns about its output's lineage (e.g. column lineage of its SQL), for the step's OpenLineage event. */
  lineage: ToolLineage;
  /** What a tool's process printed (redacted), for the step's events. */
  output: ToolOutput;
  /** Every credential value this worker holds, for redacting what a tool captures. */
  secrets: string[];
  /** The python3 executable (NOETL_PYTHON). */
  python: string;
  /** How python steps are isolated (NOETL_PYTHON_SANDBOX). */
  pythonSandbox: PythonSandboxMode;
  /** Loopback, private and link-local addresses the http tool may reach (NOETL_HTTP_ALLOW). */
  httpAllow: AddressAllowlist;
}

export interface ToolOutput {
  stdout?: string;
  stderr?: string;
}

export interface Tool {
  kind: string;
  run(ctx: ToolContext): Promise<StepResult>;
}

/** What a tool's templates see: the execution scope plus the attempt number. */
export function templateScope(command: StepCommand): Record<string, unknown> {
  return { ...command.scope, attempt: command.attempt };
}

/** What a tool reports about its output's lineage: the column lineage of its query, and inputs outside noetl (e.g. PostgreSQL tables). */
export interface ToolLineage {
  columnLineage?: ColumnLineage;
  inputs?: { dataset: DatasetRef; schema: { name: string; type: string }[] }[];
  /** Datasets written outside noetl (a ClickHouse table, a Qdrant collection); never with credentials in their names. */
  outputs?: { dataset: DatasetRef; schema: { name: string; type: string }[]; rows: number }[];
}

/**
 * A tool wrote a table reference's rows outside noetl: the target becomes an
 * output of the step, and the step that made the rows (when the reference is
 * one of the results the command carries) an input.
 */
export function recordWrite(ctx: ToolContext, target: DatasetRef, rows: TableRef): void {
  ctx.lineage.outputs = [...(ctx.lineage.outputs ?? []), { dataset: target, schema: rows.schema, rows: rows.rows }];
  const maker = Object.entries(ctx.command.scope.results).find(([, r]) => r.kind === 'table' && r.uri === rows.uri)?.[0];
  if (maker !== undefined) ctx.lineage.inputs = [...(ctx.lineage.inputs ?? []), { dataset: datasetOfStep(ctx.command, maker), schema: rows.schema }];
}
