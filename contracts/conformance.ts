/**
 * Schema conformance: does a table's actual schema (column names and engine
 * types, e.g. from DuckDB's DESCRIBE or an Arrow schema) honour the contract?
 * Missing columns and type mismatches break consumers (error); a column the
 * contract does not mention breaks nobody but is undocumented (warning).
 */
import type { Contract, LogicalType } from './model.ts';

export interface ActualColumn {
  name: string;
  type: string;
}

export interface ConformanceProblem {
  column: string;
  severity: 'error' | 'warning';
  expected: string;
  observed: string;
  message: string;
}

/** Maps an engine type (DuckDB/Arrow naming) to the ODCS logical type it carries. */
export function logicalTypeOf(engineType: string): LogicalType | undefined {
  const t = engineType.trim().toUpperCase();
  if (/^(TINYINT|SMALLINT|INTEGER|INT|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|INT\d+|UINT\d+)$/.test(t)) return 'integer';
  if (/^(FLOAT|DOUBLE|REAL|DECIMAL|NUMERIC|FLOAT\d+)(\(.*\))?$/.test(t)) return 'number';
  if (/^(VARCHAR|TEXT|STRING|UTF8|UUID|CHAR|BPCHAR)(\(.*\))?$/.test(t)) return 'string';
  if (t === 'BOOLEAN' || t === 'BOOL') return 'boolean';
  if (t === 'DATE' || t.startsWith('DATE32') || t.startsWith('DATE64')) return 'date';
  if (t.startsWith('TIMESTAMP')) return 'timestamp';
  if (t.startsWith('TIME')) return 'time';
  if (t.endsWith('[]') || t.startsWith('LIST')) return 'array';
  if (t.startsWith('STRUCT') || t.startsWith('MAP') || t === 'JSON') return 'object';
  return undefined;
}

const ALIASES: Record<string, string> = { INT: 'INTEGER', INT4: 'INTEGER', INT8: 'BIGINT', LONG: 'BIGINT', FLOAT8: 'DOUBLE', FLOAT4: 'FLOAT', REAL: 'FLOAT', STRING: 'VARCHAR', TEXT: 'VARCHAR', BOOL: 'BOOLEAN' };

function normalisePhysical(t: string): string {
  const u = t.trim().toUpperCase();
  return ALIASES[u] ?? u;
}

function logicalAccepts(expected: LogicalType, actual: LogicalType | undefined): boolean {
  if (actual === expected) return true;
  return expected === 'number' && actual === 'integer';
}

/** Every way the actual columns differ from the contract; empty when they conform. */
export function checkConformance(contract: Contract, actual: readonly ActualColumn[]): ConformanceProblem[] {
  const problems: ConformanceProblem[] = [];
  const byName = new Map(actual.map((c) => [c.name, c]));
  for (const p of contract.properties) {
    const col = byName.get(p.name);
    if (!col) {
      problems.push({ column: p.name, severity: 'error', expected: p.logicalType, observed: 'missing', message: `column "${p.name}" is missing` });
      continue;
    }
    const logical = logicalTypeOf(col.type);
    if (!logicalAccepts(p.logicalType, logical)) {
      problems.push({ column: p.name, severity: 'error', expected: p.logicalType, observed: col.type, message: `column "${p.name}" has type ${col.type}, contract says ${p.logicalType}` });
    } else if (p.physicalType !== undefined && normalisePhysical(p.physicalType) !== normalisePhysical(col.type)) {
      problems.push({ column: p.name, severity: 'error', expected: p.physicalType, observed: col.type, message: `column "${p.name}" has physical type ${col.type}, contract says ${p.physicalType}` });
    }
  }
  if (contract.enforceColumnOrder) {
    const expected = contract.properties.map((p) => p.name).filter((n) => byName.has(n));
    const observed = actual.map((c) => c.name).filter((n) => expected.includes(n));
    if (expected.join(',') !== observed.join(',')) {
      problems.push({ column: '*', severity: 'error', expected: expected.join(', '), observed: observed.join(', '), message: `columns are not in the contract's order` });
    }
  }
  const declared = new Set(contract.properties.map((p) => p.name));
  for (const c of actual) {
    if (!declared.has(c.name)) {
      problems.push({ column: c.name, severity: 'warning', expected: 'absent', observed: c.type, message: `column "${c.name}" is not in the contract` });
    }
  }
  return problems;
}
