/**
 * The contract → quality-check compiler. Every column metric of a product
 * becomes an aggregate in ONE query over the output, so a gate costs a single
 * scan however many checks a contract declares; only checks that need another
 * table (referential integrity, drift against the previous version, custom
 * SQL) run as queries of their own. What explains a failure (the min and max
 * of a range check, sample rows) is read only for checks that fail. Pure: it
 * builds SQL text and checks.
 *
 * Each aggregate is written in the form DuckDB runs fastest in a wide select
 * list (measured in bench/gate-fusion.ts): `count_if` rather than
 * `FILTER (WHERE …)`, `list_contains` for a list of valid strings, and a bitmap
 * (`bitstring_agg`) rather than a hash table to count the distinct values of an
 * integer key whose range the file's statistics give (see `bindDistinct`).
 */
import { sampleKeyColumns, type CheckSeverity, type Comparison, type Contract, type ContractProperty, type QualityRule, type Statistic } from '../model.ts';
import type { Check, CheckPlan } from './plan.ts';
import { quoteIdent, sqlLiteral, SOURCE } from './sql.ts';

/** Regular expressions for ODCS string formats the gate can check. */
const FORMATS: Record<string, string> = {
  email: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$',
  uuid: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  uri: '^[A-Za-z][A-Za-z0-9+.-]*:\\S+$',
  hostname: '^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$',
  ipv4: '^((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])$',
};

const STATISTICS: Record<Statistic, (col: string) => string> = {
  avg: (c) => `avg(${c})`,
  min: (c) => `min(${c})`,
  max: (c) => `max(${c})`,
  sum: (c) => `sum(${c})`,
  stddev: (c) => `stddev_samp(${c})`,
  median: (c) => `median(${c})`,
  p90: (c) => `quantile_cont(${c}, 0.9)`,
  p95: (c) => `quantile_cont(${c}, 0.95)`,
  p99: (c) => `quantile_cont(${c}, 0.99)`,
};

/** The reference key of a relationship's target table (`table.column` → `table`). */
export function relationshipTable(to: string): string {
  return to.slice(0, to.indexOf('.'));
}

/** Compiles every check a contract implies: required, unique, keys, ranges, lengths, patterns, relationships, quality rules, freshness. */
export function compileChecks(contract: Contract): CheckPlan {
  const b = new PlanBuilder(contract.productId, sampleKeyColumns(contract));
  b.metric('row_count', 'count(*)');
  for (const p of contract.properties) compileProperty(b, contract, p);
  const key = contract.properties.filter((p) => p.primaryKey).sort((x, y) => (x.primaryKeyPosition ?? 0) - (y.primaryKeyPosition ?? 0));
  if (key.length > 1) {
    const cols = key.map((p) => quoteIdent(p.name)).join(', ');
    b.fused({
      id: 'primary_key.unique',
      title: `primary key (${key.map((p) => p.name).join(', ')}) is unique`,
      column: undefined,
      severity: 'error',
      comparison: { op: 'mustBe', value: 0 },
      expr: `count(*) - count(DISTINCT row(${cols}))`,
      failing: `(${cols}) IN (SELECT ${cols} FROM ${SOURCE.table} GROUP BY ${cols} HAVING count(*) > 1)`,
    });
  }
  contract.quality.forEach((rule, i) => addRule(b, rule, undefined, `${contract.dataProduct}.${ruleName(rule)}.${i}`));
  if (contract.freshness) {
    const col = quoteIdent(contract.freshness.column);
    b.fused({
      id: `${contract.freshness.column}.freshness`,
      title: `newest "${contract.freshness.column}" at most ${contract.freshness.maxAgeSeconds} s old`,
      column: contract.freshness.column,
      severity: 'error',
      comparison: { op: 'mustBeLessOrEqualTo', value: contract.freshness.maxAgeSeconds },
      expr: `epoch_ms(max(${col})::TIMESTAMP)`,
      transform: { kind: 'ageSeconds' },
    });
  }
  return b.plan;
}

function compileProperty(b: PlanBuilder, contract: Contract, p: ContractProperty): void {
  const col = quoteIdent(p.name);
  const zero: Comparison = { op: 'mustBe', value: 0 };
  const row = (id: string, title: string, cond: string, extras: Record<string, string> = {}): void =>
    b.fused({ id: `${p.name}.${id}`, title, column: p.name, severity: 'error', comparison: zero, expr: `count_if(${cond})`, failing: cond, extras });
  if (p.required) {
    b.fused({ id: `${p.name}.required`, title: `column "${p.name}" is required (not null)`, column: p.name, severity: 'error', comparison: zero, expr: `count(*) - count(${col})`, failing: `${col} IS NULL` });
  }
  if (p.unique || (p.primaryKey && contract.properties.filter((x) => x.primaryKey).length === 1)) {
    b.fused({ id: `${p.name}.unique`, title: `column "${p.name}" is unique`, column: p.name, severity: 'error', comparison: zero, expr: `count(${col}) - ${distinctOf(p.name)}`, failing: duplicated(col) });
  }
  const bounds: string[] = [];
  if (p.minimum !== undefined) bounds.push(`${col} < ${bound(p.minimum, p.logicalType)}`);
  if (p.exclusiveMinimum !== undefined) bounds.push(`${col} <= ${bound(p.exclusiveMinimum, p.logicalType)}`);
  if (p.maximum !== undefined) bounds.push(`${col} > ${bound(p.maximum, p.logicalType)}`);
  if (p.exclusiveMaximum !== undefined) bounds.push(`${col} >= ${bound(p.exclusiveMaximum, p.logicalType)}`);
  if (bounds.length > 0) {
    const lo = p.minimum ?? (p.exclusiveMinimum !== undefined ? `(${p.exclusiveMinimum}` : '-∞');
    const hi = p.maximum ?? (p.exclusiveMaximum !== undefined ? `${p.exclusiveMaximum})` : '+∞');
    row('range', `column "${p.name}" within [${lo}, ${hi}]`, bounds.join(' OR '), { min: `min(${col})`, max: `max(${col})` });
  }
  if (p.minLength !== undefined || p.maxLength !== undefined) {
    const conds = [p.minLength !== undefined ? `length(${col}) < ${p.minLength}` : '', p.maxLength !== undefined ? `length(${col}) > ${p.maxLength}` : ''].filter(Boolean);
    row('length', `length of column "${p.name}" within [${p.minLength ?? 0}, ${p.maxLength ?? '∞'}]`, conds.join(' OR '), { min_length: `min(length(${col}))`, max_length: `max(length(${col}))` });
  }
  const pattern = p.pattern ?? (p.format !== undefined ? FORMATS[p.format] : undefined);
  if (pattern !== undefined) {
    const what = p.pattern !== undefined ? `pattern ${p.pattern}` : `format ${p.format}`;
    row('pattern', `column "${p.name}" matches ${what}`, `${col} IS NOT NULL AND NOT regexp_full_match(${col}::VARCHAR, ${sqlLiteral(pattern)})`);
  }
  p.relationships.forEach((r, i) => {
    const table = relationshipTable(r.to);
    const target = quoteIdent(r.to.slice(table.length + 1));
    const cond = `${col} IS NOT NULL AND ${col} NOT IN (SELECT ${target} FROM ${SOURCE.ref(table)} WHERE ${target} IS NOT NULL)`;
    b.standalone({
      id: `${p.name}.references.${i}`,
      title: `every "${p.name}" exists in ${r.to}`,
      column: p.name,
      severity: 'error',
      comparison: zero,
      query: `SELECT count(*) FROM ${SOURCE.table} WHERE ${cond}`,
      failing: cond,
    });
  });
  p.quality.forEach((rule, i) => addRule(b, rule, p, `${p.name}.${ruleName(rule)}.${i}`));
}

function addRule(b: PlanBuilder, rule: QualityRule, p: ContractProperty | undefined, id: string): void {
  const column = p?.name;
  const col = column === undefined ? undefined : quoteIdent(column);
  const on = column === undefined ? '' : ` of column "${column}"`;
  const label = rule.name === undefined ? '' : `${rule.name}: `;
  const percent = (count: string): string => (rule.unit === 'percent' ? `(${count}) * 100.0 / nullif(count(*), 0)` : count);
  const common = { id, column, severity: rule.severity, comparison: rule.comparison };
  const r = rule.rule;
  switch (r.kind) {
    case 'metric':
      switch (r.metric) {
        case 'rowCount':
          b.fused({ ...common, column: undefined, title: `${label}row count`, expr: 'count(*)' });
          return;
        case 'nullValues':
          if (!col) return;
          b.fused({ ...common, title: `${label}null values${on}`, expr: percent(`count(*) - count(${col})`), failing: `${col} IS NULL` });
          return;
        case 'missingValues': {
          if (!col) return;
          const listed = (r.missingValues ?? []).filter((v): v is string | number => v !== null).map(sqlLiteral);
          const cond = listed.length > 0 ? `${col} IS NULL OR ${col} IN (${listed.join(', ')})` : `${col} IS NULL`;
          b.fused({ ...common, title: `${label}missing values${on}`, expr: percent(`count_if(${cond})`), failing: cond });
          return;
        }
        case 'invalidValues': {
          if (!col) return;
          const conds: string[] = [];
          if (r.validValues) conds.push(notAmong(col, r.validValues, p?.logicalType));
          if (r.pattern) conds.push(`NOT regexp_full_match(${col}::VARCHAR, ${sqlLiteral(r.pattern)})`);
          if (conds.length === 0) return;
          const cond = `${col} IS NOT NULL AND (${conds.join(' OR ')})`;
          const what = r.validValues ? `outside (${r.validValues.join(', ')})` : `not matching ${r.pattern}`;
          b.fused({ ...common, title: `${label}values${on} ${what}`, expr: percent(`count_if(${cond})`), failing: cond });
          return;
        }
        case 'duplicateValues':
          if (!col) return;
          b.fused({ ...common, title: `${label}duplicate values${on}`, expr: percent(`count(${col}) - ${distinctOf(column!)}`), failing: duplicated(col) });
          return;
      }
      return;
    case 'statistic': {
      const target = r.column ?? column;
      if (target === undefined) return;
      b.fused({ ...common, column: target, title: `${label}${r.statistic} of column "${target}"`, expr: STATISTICS[r.statistic](quoteIdent(target)) });
      return;
    }
    case 'rowCountComparison':
      b.fused({ ...common, column: undefined, title: `${label}row count relative to ${r.product}`, expr: 'count(*)', transform: { kind: 'ratioTo', ref: r.product } });
      return;
    case 'sql':
      b.standalone({ ...common, title: `${label}SQL check${on}`, query: r.query });
      return;
    case 'failingRows':
      b.standalone({ ...common, title: `${label}no rows returned by its query`, query: `SELECT count(*) FROM (${r.query})`, failingQuery: r.query });
      return;
    case 'drift': {
      const target = r.column ?? column;
      if (target === undefined) return;
      b.standalone({ ...common, column: target, title: `${label}drift (PSI) of column "${target}" from the previous version`, query: driftQuery(quoteIdent(target)) });
      return;
    }
  }
}

/**
 * Population stability index of a column between the previous published version
 * and this output: numbers in ten equal-width bins of the previous range, other
 * types by value. 0 is identical; above 0.2 is usually taken as a real shift.
 */
function driftQuery(col: string): string {
  const binOf = (from: string): string =>
    `SELECT CASE WHEN typeof(${col}) IN ('VARCHAR', 'BOOLEAN', 'DATE') OR b.lo IS NULL OR b.hi = b.lo THEN ${col}::VARCHAR
            ELSE least(9, greatest(0, floor((${col} - b.lo) / (b.hi - b.lo) * 10)))::VARCHAR END AS bin
     FROM ${from}, b WHERE ${col} IS NOT NULL`;
  return `WITH b AS (SELECT try_cast(min(${col}) AS DOUBLE) AS lo, try_cast(max(${col}) AS DOUBLE) AS hi FROM ${SOURCE.previous}),
  p AS (SELECT bin, count(*)::DOUBLE / sum(count(*)) OVER () AS f FROM (${binOf(SOURCE.previous)}) GROUP BY bin),
  q AS (SELECT bin, count(*)::DOUBLE / sum(count(*)) OVER () AS f FROM (${binOf(SOURCE.table)}) GROUP BY bin),
  j AS (SELECT greatest(coalesce(p.f, 0), 0.0001) AS pf, greatest(coalesce(q.f, 0), 0.0001) AS qf FROM p FULL OUTER JOIN q ON p.bin = q.bin)
  SELECT coalesce(sum((qf - pf) * ln(qf / pf)), 0) FROM j`;
}

/** A string column outside a list of strings: `list_contains` (several times faster than `NOT IN` on strings); other types keep `NOT IN`'s casts. */
function notAmong(col: string, values: readonly (string | number | boolean)[], logicalType: string | undefined): string {
  const list = values.map(sqlLiteral).join(', ');
  return logicalType === 'string' && values.every((v) => typeof v === 'string') ? `NOT list_contains([${list}], ${col})` : `${col} NOT IN (${list})`;
}

/** The distinct count of a column, left as a placeholder the gate binds (`bindDistinct`) once it knows the file. */
function distinctOf(column: string): string {
  return `\${distinct:${encodeURIComponent(column)}}`;
}

const DISTINCT = /\$\{distinct:([^}]+)\}/g;

/** Integer columns and the range of their values in the file being checked (from its Parquet statistics). */
export type KeyRanges = Record<string, { min: bigint; max: bigint }>;

/** Ranges wider than this count distinct values with a hash table: the bitmap would take more memory than it saves. */
export const MAX_BITMAP_RANGE = 1n << 26n;

/** The columns whose distinct values the plan counts. */
export function distinctColumns(plan: CheckPlan): string[] {
  const out = new Set<string>();
  for (const e of plan.expressions.values()) for (const m of e.matchAll(DISTINCT)) out.add(decodeURIComponent(m[1]!));
  return [...out];
}

/**
 * Binds distinct counts: a bitmap over an integer column's known range
 * (`bitstring_agg`, exact, one bit per possible value) or else `count(DISTINCT …)`.
 */
export function bindDistinct(expr: string, ranges: KeyRanges = {}): string {
  return expr.replace(DISTINCT, (_m, encoded: string) => {
    const name = decodeURIComponent(encoded);
    const col = quoteIdent(name);
    const r = ranges[name];
    return r !== undefined && r.max - r.min < MAX_BITMAP_RANGE ? `bit_count(bitstring_agg(${col}, ${r.min}, ${r.max}))` : `count(DISTINCT ${col})`;
  });
}

function duplicated(col: string): string {
  return `${col} IN (SELECT ${col} FROM ${SOURCE.table} GROUP BY ${col} HAVING count(*) > 1)`;
}

function ruleName(rule: QualityRule): string {
  const r = rule.rule;
  return r.kind === 'metric' ? r.metric : r.kind;
}

function bound(value: number | string, logicalType: string): string {
  if (typeof value === 'number') return sqlLiteral(value);
  const cast = logicalType === 'date' ? 'DATE' : logicalType === 'timestamp' ? 'TIMESTAMP' : logicalType === 'time' ? 'TIME' : undefined;
  return cast ? `${cast} ${sqlLiteral(value)}` : sqlLiteral(value);
}

interface FusedSpec {
  id: string;
  title: string;
  column: string | undefined;
  severity: CheckSeverity;
  comparison: Comparison;
  expr: string;
  extras?: Record<string, string>;
  failing?: string;
  transform?: Check['transform'];
}

interface StandaloneSpec {
  id: string;
  title: string;
  column: string | undefined;
  severity: CheckSeverity;
  comparison: Comparison;
  query: string;
  failing?: string;
  /** A query whose rows are the failures, sampled as they are. */
  failingQuery?: string;
}

class PlanBuilder {
  readonly plan: CheckPlan;
  constructor(productId: string, sampleColumns: string[]) {
    this.plan = { productId, checks: [], expressions: new Map(), sampleColumns };
  }

  metric(alias: string, expr: string): void {
    this.plan.expressions.set(alias, expr);
  }

  fused(s: FusedSpec): void {
    // Identical aggregates share one column of the fused query.
    const existing = [...this.plan.expressions].find(([, e]) => e === s.expr)?.[0];
    const metric = existing ?? `m${this.plan.expressions.size}`;
    if (!existing) this.metric(metric, s.expr);
    const extras = s.extras ?? {};
    this.plan.checks.push({ id: s.id, title: s.title, column: s.column, severity: s.severity, comparison: s.comparison, metric, extras, ...(s.failing ? { failing: s.failing } : {}), ...(s.transform ? { transform: s.transform } : {}) });
  }

  standalone(s: StandaloneSpec): void {
    this.plan.checks.push({ id: s.id, title: s.title, column: s.column, severity: s.severity, comparison: s.comparison, query: s.query, extras: {}, ...(s.failing ? { failing: s.failing } : {}), ...(s.failingQuery ? { failingQuery: s.failingQuery } : {}) });
  }
}

/** The one query that computes every fused metric over `source`. */
export function fusedQuery(plan: CheckPlan, source: string, ranges: KeyRanges = {}): string {
  const list = [...plan.expressions].map(([alias, expr]) => `${bindDistinct(expr, ranges)} AS ${quoteIdent(alias)}`);
  return `SELECT ${list.join(', ')} FROM ${source}`;
}

/** One query for what explains the given (failed) checks: their extras, as `<metric>__<name>`; undefined when they have none. */
export function extrasQuery(checks: readonly Check[], source: string): string | undefined {
  const list = checks.flatMap((c) => Object.entries(c.extras).map(([k, e]) => `${e} AS ${quoteIdent(`${c.metric}__${k}`)}`));
  return list.length === 0 ? undefined : `SELECT ${list.join(', ')} FROM ${source}`;
}

/** The query listing up to five rows (sample columns only) that break a check; undefined when there is nothing safe to show. */
export function sampleQuery(plan: CheckPlan, check: Check, limit = 5): string | undefined {
  if (plan.sampleColumns.length === 0) return undefined;
  const cols = plan.sampleColumns.map(quoteIdent).join(', ');
  if (check.failingQuery !== undefined) return `SELECT ${cols} FROM (${check.failingQuery}) LIMIT ${limit}`;
  if (check.failing === undefined) return undefined;
  return `SELECT ${cols} FROM ${SOURCE.table} WHERE ${check.failing} LIMIT ${limit}`;
}

