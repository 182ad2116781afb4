/** A contract as SQL DDL (PostgreSQL/DuckDB): columns, NOT NULL, keys, and CHECK constraints for ranges, lengths and value sets. */
import { quoteIdent, sqlLiteral } from '../checks/sql.ts';
import type { Contract, ContractProperty } from '../model.ts';

const SQL_TYPES: Record<ContractProperty['logicalType'], string> = {
  string: 'VARCHAR',
  integer: 'BIGINT',
  number: 'DOUBLE PRECISION',
  boolean: 'BOOLEAN',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
  time: 'TIME',
  object: 'JSON',
  array: 'JSON',
};

export function toDdl(c: Contract): string {
  const lines: string[] = [];
  for (const p of c.properties) {
    const col = quoteIdent(p.name);
    lines.push(`${col} ${p.physicalType ?? SQL_TYPES[p.logicalType]}${p.required ? ' NOT NULL' : ''}${p.unique && !p.primaryKey ? ' UNIQUE' : ''}`);
    const literal = (v: number | string): string => (typeof v === 'number' ? String(v) : sqlLiteral(v));
    const checks: string[] = [];
    if (p.minimum !== undefined) checks.push(`${col} >= ${literal(p.minimum)}`);
    if (p.maximum !== undefined) checks.push(`${col} <= ${literal(p.maximum)}`);
    if (p.exclusiveMinimum !== undefined) checks.push(`${col} > ${literal(p.exclusiveMinimum)}`);
    if (p.exclusiveMaximum !== undefined) checks.push(`${col} < ${literal(p.exclusiveMaximum)}`);
    if (p.minLength !== undefined) checks.push(`length(${col}) >= ${p.minLength}`);
    if (p.maxLength !== undefined) checks.push(`length(${col}) <= ${p.maxLength}`);
    for (const q of p.quality) {
      if (q.severity === 'error' && q.rule.kind === 'metric' && q.rule.metric === 'invalidValues' && q.rule.validValues) {
        checks.push(`${col} IN (${q.rule.validValues.map((v) => sqlLiteral(v)).join(', ')})`);
      }
    }
    if (checks.length > 0) lines.push(`CONSTRAINT ${quoteIdent(`${p.name}_check`)} CHECK (${checks.join(' AND ')})`);
  }
  const key = c.properties.filter((p) => p.primaryKey).sort((a, b) => (a.primaryKeyPosition ?? 0) - (b.primaryKeyPosition ?? 0));
  if (key.length > 0) lines.push(`PRIMARY KEY (${key.map((p) => quoteIdent(p.name)).join(', ')})`);
  const comment = `-- ${c.productId} ${c.version} (${c.status}), owners: ${c.owners.join(', ')}`;
  return `${comment}\nCREATE TABLE ${quoteIdent(c.domain)}.${quoteIdent(c.objectName)} (\n  ${lines.join(',\n  ')}\n);\n`;
}
