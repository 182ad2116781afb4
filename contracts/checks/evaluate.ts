/** Judging measurements against the compiled checks. Pure: the clock is passed in. */
import type { Comparison } from '../model.ts';
import type { CheckPlan, CheckResult, Measurements } from './plan.ts';

export interface EvaluationContext {
  now: Date;
  /** Row counts of referenced tables, by reference key (from their metadata). */
  refRows: Record<string, number>;
  /** Checks that could not run, with the reason. */
  skipped: Record<string, string>;
}

export function evaluateChecks(plan: CheckPlan, values: Measurements, ctx: EvaluationContext = { now: new Date(), refRows: {}, skipped: {} }): CheckResult[] {
  return plan.checks.map((c): CheckResult => {
    const base = { id: c.id, title: c.title, column: c.column, severity: c.severity, expected: describeComparison(c.comparison) };
    const skipped = ctx.skipped[c.id];
    if (skipped !== undefined) return { ...base, passed: true, observed: null, extras: {}, skipped };
    let observed = toNumber(values[c.metric ?? c.id]);
    if (observed !== null && c.transform?.kind === 'ageSeconds') observed = Math.round((ctx.now.getTime() - observed) / 1000);
    if (observed !== null && c.transform?.kind === 'ratioTo') {
      const other = ctx.refRows[c.transform.ref];
      observed = other ? observed / other : null;
    }
    // Extras are measured only for checks that fail (extrasQuery); a passing check has none.
    const extras = Object.fromEntries(Object.keys(c.extras).flatMap((k) => (`${c.metric}__${k}` in values ? [[k, plain(values[`${c.metric}__${k}`])]] : [])));
    return { ...base, passed: observed !== null && compare(observed, c.comparison), observed, extras };
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
