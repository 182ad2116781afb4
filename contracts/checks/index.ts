export { compileChecks, fusedQuery, sampleQuery, relationshipTable } from './compile.ts';
export { evaluateChecks, describeComparison, type EvaluationContext } from './evaluate.ts';
export { quoteIdent, sqlLiteral, bindSources, SOURCE, type Sources } from './sql.ts';
export type { Check, CheckPlan, CheckResult, Measurements } from './plan.ts';
