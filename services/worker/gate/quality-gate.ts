/**
 * The quality gate: before a product output is published, its schema is
 * checked against the contract and every check the contract implies runs in
 * one fused DuckDB query over the staged Parquet file. The gate passes when no
 * error-severity check or conformance problem fails; warnings are reported and
 * do not block.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { checkConformance, compileChecks, evaluateChecks, fusedQuery, sqlLiteral, type Contract } from '../../../contracts/index.ts';
import type { QualityCheckOutcome, QualityReport, TableRef } from '../../../platform/bus/messages.ts';

export type GateOutcome = Pick<QualityReport, 'passed' | 'checks' | 'conformance'>;

export async function runQualityGate(conn: DuckDBConnection, contract: Contract, file: string, actual: TableRef): Promise<GateOutcome> {
  const conformance = checkConformance(contract, actual.schema);
  const missing = new Set(conformance.filter((p) => p.observed === 'missing').map((p) => p.column));
  // Checks on a missing column cannot run; conformance already reports the column.
  const present: Contract = { ...contract, properties: contract.properties.filter((p) => !missing.has(p.name)) };
  const plan = compileChecks(present);
  const reader = await conn.runAndReadAll(fusedQuery(plan, `read_parquet(${sqlLiteral(file)})`));
  const row = reader.getRowObjects()[0] ?? {};
  const checks: QualityCheckOutcome[] = evaluateChecks(plan, row);
  const passed = !checks.some((c) => !c.passed && c.severity === 'error') && !conformance.some((p) => p.severity === 'error');
  return { passed, checks, conformance };
}

/** One line per error-level failure: product, check, column, expected and observed. */
export function describeGateFailure(productId: string, outcome: GateOutcome): string {
  const lines = [
    ...outcome.conformance.filter((p) => p.severity === 'error').map((p) => `${productId}: schema: ${p.message} (expected ${p.expected}, observed ${p.observed})`),
    ...outcome.checks
      .filter((c) => !c.passed && c.severity === 'error')
      .map((c) => `${productId}: check ${c.id}${c.column ? ` on column "${c.column}"` : ''}: ${c.title}: expected ${c.expected}, observed ${c.observed ?? 'nothing'}${extrasText(c.extras)}`),
  ];
  return `quality gate failed for ${productId}; output kept staged, current version unchanged:\n  ${lines.join('\n  ')}`;
}

function extrasText(extras: Record<string, unknown>): string {
  const parts = Object.entries(extras).map(([k, v]) => `${k} ${String(v)}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}
