/**
 * The contract → quality-check compiler. Every check of a product becomes one or
 * more aggregate expressions, and all of them run in ONE query over the output,
 * so a gate costs a single scan however many checks a contract declares.
 * Pure: this module builds SQL text and judges metric values; running the query
 * is the caller's job.
 */
import type { CheckSeverity, Comparison, Contract, QualityRule } from './model.ts';

export interface Check {
  id: string;
  /** What the check is about, for messages: `column "x" not null`. */
  title: string;
  column: string | undefined;
  severity: CheckSeverity;
  comparison: Comparison;
  /** Alias of the metric in the fused query's single result row. */
  metric: string;
  /** Extra observed values reported with the result (e.g. the min and max seen). */
  extras: Record<string, string>;
}

export interface CheckPlan {
  productId: string;
  checks: Check[];
  /** `alias → aggregate SQL` for every metric and extra; one select list. */
  expressions: Map<string, string>;
}

export interface CheckResult {
  id: string;
  title: string;
  column: string | undefined;
  severity: CheckSeverity;
  passed: boolean;
  observed: number | null;
  expected: string;
  extras: Record<string, unknown>;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function sqlLiteral(value: string | number | boolean | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`not a finite number: ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  return `'${value.replace(/'/g, "''")}'`;
}

/** Compiles every check a contract implies (required, unique, ranges, quality rules). */
export function compileChecks(contract: Contract): CheckPlan {
  const b = new PlanBuilder(contract.productId);
  b.metric('row_count', 'count(*)');
  for (const p of contract.properties) {
    const col = quoteIdent(p.name);
    if (p.required) {
      b.check(`${p.name}.required`, `column "${p.name}" is required (not null)`, p.name, 'error', { op: 'mustBe', value: 0 }, `count(*) - count(${col})`);
    }
    if (p.unique || (p.primaryKey && !hasCompoundKey(contract))) {
      b.check(`${p.name}.unique`, `column "${p.name}" is unique`, p.name, 'error', { op: 'mustBe', value: 0 }, `count(${col}) - count(DISTINCT ${col})`);
    }
    if (p.minimum !== undefined || p.maximum !== undefined) {
      const conds: string[] = [];
      if (p.minimum !== undefined) conds.push(`${col} < ${rangeLiteral(p.minimum, p.logicalType)}`);
      if (p.maximum !== undefined) conds.push(`${col} > ${rangeLiteral(p.maximum, p.logicalType)}`);
      const bounds = `[${p.minimum ?? '-∞'}, ${p.maximum ?? '+∞'}]`;
      b.check(`${p.name}.range`, `column "${p.name}" within ${bounds}`, p.name, 'error', { op: 'mustBe', value: 0 },
        `count(*) FILTER (WHERE ${conds.join(' OR ')})`, { min: `min(${col})`, max: `max(${col})` });
    }
    p.quality.forEach((rule, i) => addRule(b, rule, p.name, `${p.name}.${rule.metric}.${i}`));
  }
  const key = contract.properties.filter((p) => p.primaryKey).map((p) => p.name);
  if (key.length > 1) {
    const cols = key.map(quoteIdent).join(', ');
    b.check('primary_key.unique', `primary key (${key.join(', ')}) is unique`, undefined, 'error', { op: 'mustBe', value: 0 }, `count(*) - count(DISTINCT row(${cols}))`);
  }
  contract.quality.forEach((rule, i) => addRule(b, rule, undefined, `${contract.dataProduct}.${rule.metric}.${i}`));
  return b.plan;
}

/** The fused query: one SELECT of every metric over `source` (a table, view or read_parquet call). */
export function fusedQuery(plan: CheckPlan, source: string): string {
  const list = [...plan.expressions].map(([alias, expr]) => `${expr} AS ${quoteIdent(alias)}`);
  return `SELECT ${list.join(', ')} FROM ${source}`;
}

/** Judges each check against the single row the fused query returned. */
export function evaluateChecks(plan: CheckPlan, row: Record<string, unknown>): CheckResult[] {
  return plan.checks.map((c) => {
    const observed = toNumber(row[c.metric]);
    const extras = Object.fromEntries(Object.keys(c.extras).map((k) => [k, plain(row[`${c.metric}__${k}`])]));
    return {
      id: c.id,
      title: c.title,
      column: c.column,
      severity: c.severity,
      passed: observed !== null && compare(observed, c.comparison),
      observed,
      expected: describeComparison(c.comparison),
      extras,
    };
  });
}

export function describeComparison(c: Comparison): string {
  switch (c.op) {
    case 'mustBe': return `= ${c.value}`;
    case 'mustNotBe': return `!= ${c.value}`;
    case 'mustBeGreaterThan': return `> ${c.value}`;
    case 'mustBeGreaterOrEqualTo': return `>= ${c.value}`;
    case 'mustBeLessThan': return `< ${c.value}`;
    case 'mustBeLessOrEqualTo': return `<= ${c.value}`;
    case 'mustBeBetween': return `between ${c.value[0]} and ${c.value[1]}`;
    case 'mustNotBeBetween': return `not between ${c.value[0]} and ${c.value[1]}`;
  }
}

function compare(v: number, c: Comparison): boolean {
  switch (c.op) {
    case 'mustBe': return v === c.value;
    case 'mustNotBe': return v !== c.value;
    case 'mustBeGreaterThan': return v > c.value;
    case 'mustBeGreaterOrEqualTo': return v >= c.value;
    case 'mustBeLessThan': return v < c.value;
    case 'mustBeLessOrEqualTo': return v <= c.value;
    case 'mustBeBetween': return v >= c.value[0] && v <= c.value[1];
    case 'mustNotBeBetween': return v < c.value[0] || v > c.value[1];
  }
}

class PlanBuilder {
  readonly plan: CheckPlan;
  constructor(productId: string) {
    this.plan = { productId, checks: [], expressions: new Map() };
  }

  metric(alias: string, expr: string): void {
    this.plan.expressions.set(alias, expr);
  }

  check(id: string, title: string, column: string | undefined, severity: CheckSeverity, comparison: Comparison, expr: string, extras: Record<string, string> = {}): void {
    // Identical aggregates share one column of the fused query.
    const existing = [...this.plan.expressions].find(([, e]) => e === expr)?.[0];
    const metric = existing ?? `m${this.plan.expressions.size}`;
    if (!existing) this.metric(metric, expr);
    for (const [k, e] of Object.entries(extras)) this.metric(`${metric}__${k}`, e);
    this.plan.checks.push({ id, title, column, severity, comparison, metric, extras });
  }
}

function addRule(b: PlanBuilder, rule: QualityRule, column: string | undefined, id: string): void {
  const col = column === undefined ? undefined : quoteIdent(column);
  const percent = (count: string): string => (rule.unit === 'percent' ? `(${count}) * 100.0 / nullif(count(*), 0)` : count);
  const label = rule.name === undefined ? '' : `${rule.name}: `;
  const on = column === undefined ? '' : ` of column "${column}"`;
  switch (rule.metric) {
    case 'rowCount':
      b.check(id, `${label}row count`, undefined, rule.severity, rule.comparison, 'count(*)');
      return;
    case 'nullValues':
      if (!col) return;
      b.check(id, `${label}null values${on}`, column, rule.severity, rule.comparison, percent(`count(*) - count(${col})`));
      return;
    case 'missingValues': {
      if (!col) return;
      const listed = (rule.missingValues ?? []).filter((v): v is string | number => v !== null).map(sqlLiteral);
      const cond = listed.length > 0 ? `${col} IS NULL OR ${col} IN (${listed.join(', ')})` : `${col} IS NULL`;
      b.check(id, `${label}missing values${on}`, column, rule.severity, rule.comparison, percent(`count(*) FILTER (WHERE ${cond})`));
      return;
    }
    case 'invalidValues': {
      if (!col || !rule.validValues) return;
      const values = rule.validValues.map(sqlLiteral).join(', ');
      b.check(id, `${label}values${on} outside (${rule.validValues.join(', ')})`, column, rule.severity, rule.comparison,
        percent(`count(*) FILTER (WHERE ${col} IS NOT NULL AND ${col} NOT IN (${values}))`));
      return;
    }
    case 'duplicateValues':
      if (!col) return;
      b.check(id, `${label}duplicate values${on}`, column, rule.severity, rule.comparison, percent(`count(${col}) - count(DISTINCT ${col})`));
      return;
  }
}

function hasCompoundKey(contract: Contract): boolean {
  return contract.properties.filter((p) => p.primaryKey).length > 1;
}

function rangeLiteral(bound: number | string, logicalType: string): string {
  if (typeof bound === 'number') return sqlLiteral(bound);
  const cast = logicalType === 'date' ? 'DATE' : logicalType === 'timestamp' ? 'TIMESTAMP' : logicalType === 'time' ? 'TIME' : undefined;
  return cast ? `${cast} ${sqlLiteral(bound)}` : sqlLiteral(bound);
}

function toNumber(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  const n = Number(v);
  return Number.isNaN(n) ? null : n;
}

function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v !== null && typeof v === 'object') return (v as { toString(): string }).toString();
  return v;
}
