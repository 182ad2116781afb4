/** Data-product contracts: ODCS parsing, the check compiler and schema conformance. Pure. */
export type { Contract, ContractProperty, QualityRule, Comparison, LogicalType, CheckSeverity, ContractStatus } from './model.ts';
export { productIdOf } from './model.ts';
export { parseContract, type ContractParseResult } from './parse-contract.ts';
export { compileChecks, fusedQuery, evaluateChecks, describeComparison, quoteIdent, sqlLiteral, type Check, type CheckPlan, type CheckResult } from './checks.ts';
export { checkConformance, logicalTypeOf, type ActualColumn, type ConformanceProblem } from './conformance.ts';
