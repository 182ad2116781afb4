export { compileChecks, fusedQuery, extrasQuery, sampleQuery, relationshipTable, bindDistinct, distinctColumns, MAX_BITMAP_RANGE, type KeyRanges } from './compile.ts';
export { evaluateChecks, describeComparison, type EvaluationContext } from './evaluate.ts';
export { quoteIdent, sqlLiteral, bindSources, SOURCE, type Sources } from './sql.ts';
export type { Check, CheckPlan, CheckResult, Measurements } from './plan.ts';
