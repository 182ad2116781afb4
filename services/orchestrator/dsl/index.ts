export type { Playbook, Step, Arc, ToolSpec, RouteMode, RetryPolicy } from './model.ts';
export { startStep } from './model.ts';
export { parsePlaybook, type CheckContext, type PlaybookParseResult } from './parse-playbook.ts';
export { buildOrder, type BuildOrder } from './build-order.ts';
