/** Lineage: the OpenLineage model, naming, run-event builders and graph walks. Pure. */
export * from './model.ts';
export * from './naming.ts';
export { stepRunEvent, executionRunEvent, stepRunId, type StepRun, type StepRunDetails, type ExecutionRun } from './run-events.ts';
export { walk, edgesOfRun, type LineageEdge, type Walk } from './graph.ts';
export { validateEvent, eventKey, graphOf, escapePointer, type AnyLineageEvent, type ValidationProblem, type ColumnEdge, type EventGraph } from './ingest.ts';
export { eventLimitProblem, LINEAGE_LIMITS, type LimitProblem } from './ingest-limits.ts';
export { columnLineageFromAst, type SqlSources, type SqlInput, type ColumnLineage } from './sql-column-lineage.ts';
