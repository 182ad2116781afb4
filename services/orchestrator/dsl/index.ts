export type { Playbook, Step, Arc, ToolSpec, RouteMode, RetryRule, RetryAction, BackoffPolicy, Loop } from './model.ts';
export { startStep, toolsOf, PLAYBOOK_TOOL, TASKS_TOOL } from './model.ts';
export { parsePlaybook, type CheckContext, type PlaybookParseResult } from './parse-playbook.ts';
export { buildOrder, type BuildOrder } from './build-order.ts';
export { subPlaybookCycles, type SubPlaybookCycle } from './sub-playbook-cycles.ts';
export { resultReads, type ResultReads } from './result-reads.ts';
