/** The OpenLineage run events of an execution as a whole (its steps' come from the workers). */
import { executionRunEvent, type RunEvent } from '../../../lineage/index.ts';
import type { ExecutionEventBody } from '../../../platform/bus/index.ts';
import type { Running } from './running.ts';

/**
 * The OpenLineage events of an execution: START when it starts, RUNNING when its
 * first step is dispatched, then COMPLETE, FAIL or ABORT; other orchestrator events have none.
 */
export function executionLineage(run: Running, body: ExecutionEventBody, at: string): RunEvent[] {
  const ref = { executionId: run.state.executionId, domain: run.playbook.domain, playbook: run.playbook.name };
  switch (body.type) {
    case 'execution.started':
      return [executionRunEvent(ref, 'START', at)];
    case 'step.dispatched':
      return body.step === run.net.start && body.attempt === 1 && body.run === undefined ? [executionRunEvent(ref, 'RUNNING', at)] : [];
    case 'execution.completed':
      return [executionRunEvent(ref, 'COMPLETE', at)];
    case 'execution.failed':
      return [executionRunEvent(ref, 'FAIL', at, body.error.message)];
    case 'execution.cancelled':
      return [executionRunEvent(ref, 'ABORT', at, body.reason)];
    default:
      return [];
  }
}
