/**
 * The quality gate: before a product output is published, its schema is
 * checked against the contract, every column metric runs in one fused DuckDB
 * query over the staged Parquet file, and the few checks that need another
 * table (relationships, drift, custom SQL) run as queries of their own. The gate
 * passes when no error-severity check or conformance problem fails; warnings
 * are reported and do not block. Failed checks come with at most five sample
 * rows, key columns only, PII never.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { bindSources, checkConformance, compileChecks, distinctColumns, evaluateChecks, extrasQuery, fusedQuery, sampleQuery, sqlLiteral, type CheckPlan, type Contract, type KeyRanges, type Sources } from '../../../contracts/index.ts';
import type { QualityCheckOutcome, QualityReport, TableRef } from '../../../platform/bus/messages.ts';
import { keyRanges } from './key-ranges.ts';

export type GateOutcome = Pick<QualityReport, 'passed' | 'checks' | 'conformance'>;

export interface GateInputs {
  /** The staged output file. */
  file: string;
  actual: TableRef;
  /** Readable sources for references (relationship tables by name, products by id). */
  refs: Record<string, { file: string; rows: number }>;
  /** The product's previously published version, if any. */
  previous: string | undefined;
  now?: Date;
}

const read = (file: string): string => `read_parquet(${sqlLiteral(file)})`;

export async function runQualityGate(conn: DuckDBConnection, contract: Contract, inputs: GateInputs): Promise<GateOutcome> {
  const conformance = checkConformance(contract, inputs.actual.schema);
  const missing = new Set(conformance.filter((p) => p.observed === 'missing').map((p) => p.column));
  // Checks on a missing column cannot run; conformance already reports the column.
  const present: Contract = { ...contract, properties: contract.properties.filter((p) => !missing.has(p.name)) };
  const plan = compileChecks(present);
  const sources: Sources = {
    table: read(inputs.file),
    refs: Object.fromEntries(Object.entries(inputs.refs).map(([k, v]) => [k, read(v.file)])),
    previous: inputs.previous === undefined ? undefined : read(inputs.previous),
  };
  const ranges = await keyRanges(conn, inputs.file, inputs.actual.schema, distinctColumns(plan));
  const values: Record<string, unknown> = await fusedValues(conn, plan, sources.table, ranges);
  const skipped: Record<string, string> = {};
  for (const c of plan.checks) {
    if (c.query === undefined) continue;
    const sql = bindSources(c.query, sources, c.column);
    if (sql === undefined) {
      skipped[c.id] = c.query.includes('${previous}') ? 'no previous version to compare with' : 'a table it reads is not published';
      continue;
    }
    values[c.id] = (await conn.runAndReadAll(sql)).getRows()[0]?.[0] ?? null;
  }
  const refRows = Object.fromEntries(Object.entries(inputs.refs).map(([k, v]) => [k, v.rows]));
  const context = { now: inputs.now ?? new Date(), refRows, skipped };
  let checks: QualityCheckOutcome[] = evaluateChecks(plan, values, context);
  // What explains the failures (e.g. a range check's min and max): one more query, only when something failed.
  const explain = extrasQuery(plan.checks.filter((c) => checks.some((r) => r.id === c.id && !r.passed)), sources.table);
  if (explain !== undefined) {
    Object.assign(values, (await conn.runAndReadAll(explain)).getRowObjects()[0]);
    checks = evaluateChecks(plan, values, context);
  }
  for (const r of checks) {
    if (r.passed) continue;
    const q = sampleQuery(plan, plan.checks.find((c) => c.id === r.id)!);
    const sql = q === undefined ? undefined : bindSources(q, sources, r.column);
    if (sql !== undefined) r.samples = (await conn.runAndReadAll(sql)).getRowObjectsJson();
  }
  const passed = !checks.some((c) => !c.passed && c.severity === 'error') && !conformance.some((p) => p.severity === 'error');
  return { passed, checks, conformance };
}

/** The fused query's row; distinct counts of integer keys by bitmap over `ranges` (from the file's statistics). */
export async function fusedValues(conn: DuckDBConnection, plan: CheckPlan, table: string, ranges: KeyRanges): Promise<Record<string, unknown>> {
  try {
    return (await conn.runAndReadAll(fusedQuery(plan, table, ranges))).getRowObjects()[0] ?? {};
  } catch (e) {
    // Statistics that do not hold (a value outside them) fail the bitmap: count the ordinary way.
    if (Object.keys(ranges).length === 0) throw e;
    return (await conn.runAndReadAll(fusedQuery(plan, table))).getRowObjects()[0] ?? {};
  }
}

/** One line per error-level failure: product, check, column, expected and observed, and sample keys. */
export function describeGateFailure(productId: string, outcome: GateOutcome): string {
  const lines = [
    ...outcome.conformance.filter((p) => p.severity === 'error').map((p) => `${productId}: schema: ${p.message} (expected ${p.expected}, observed ${p.observed})`),
    ...outcome.checks
      .filter((c) => !c.passed && c.severity === 'error')
      .map((c) => `${productId}: check ${c.id}${c.column ? ` on column "${c.column}"` : ''}: ${c.title}: expected ${c.expected}, observed ${c.observed ?? 'nothing'}${extrasText(c.extras)}${samplesText(c.samples)}`),
  ];
  return `quality gate failed for ${productId}; output kept staged, current version unchanged:\n  ${lines.join('\n  ')}`;
}

function extrasText(extras: Record<string, unknown>): string {
  const parts = Object.entries(extras).map(([k, v]) => `${k} ${String(v)}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

function samplesText(samples: Record<string, unknown>[] | undefined): string {
  return samples && samples.length > 0 ? `; e.g. ${samples.map((s) => JSON.stringify(s)).join(' ')}` : '';
}
