/** Data-product contracts: ODCS parsing, the check compiler, schema conformance and change classification. Pure. */
export type { Contract, ContractProperty, QualityRule, Comparison, LogicalType, CheckSeverity, ContractStatus, Relationship, RuleKind, Freshness } from './model.ts';
export { productIdOf, isPii, sampleKeyColumns, partitionColumns } from './model.ts';
export { parseContract, type ContractParseResult } from './parse-contract.ts';
export { checkRelationships, type ParsedContract } from './relationships.ts';
export * from './checks/index.ts';
export { checkConformance, logicalTypeOf, type ActualColumn, type ConformanceProblem } from './conformance.ts';
export { diffContracts, versionFindings, type ContractChange, type ChangeSeverity } from './diff/classify.ts';
export { compareSemver, parseSemver, nextMajor } from './diff/semver.ts';
export { toJsonSchema } from './export/json-schema.ts';
export { toDdl } from './export/ddl.ts';
