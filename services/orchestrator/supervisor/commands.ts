/** The step commands the supervisor sends: built from an execution's state, pure. */
import { unitFields, type StepCommand } from '../../../platform/bus/index.ts';
import { itemScope } from '../engine/engine.ts';
import { commandIdOf, type Dispatch } from './decisions.ts';
import type { Running } from './running.ts';

/** The command that runs a dispatched step (or loop item): its tool, scope, inputs and what its gate needs. */
export function commandOf(run: Running, d: Dispatch): StepCommand {
  const { step: stepName, attempt, notBefore } = d;
  const step = run.steps.get(stepName)!;
  return {
    commandId: commandIdOf(run.state.executionId, d),
    executionId: run.state.executionId,
    playbook: run.playbook.ref,
    domain: run.playbook.domain,
    step: stepName,
    attempt,
    ...unitFields(d),
    tool: step.tool,
    scope: scopeFor(run, stepName, d.iteration),
    consumes: Object.fromEntries(step.consumes.map((c) => [c, run.consumes.get(c)!])),
    upstream: run.net.transitions.get(stepName)!.from.map((s) => ({ step: s, produces: run.steps.get(s)?.produces })),
    ...(notBefore ? { notBefore } : {}),
    ...(step.timeoutMs !== undefined ? { timeoutMs: step.timeoutMs } : {}),
    produces: step.produces ? { productId: step.produces, contract: run.contracts.get(step.produces), ...run.gateRefs.get(step.produces) } : undefined,
  };
}
/** A command's scope: the execution's, with only the results the step can read. */
function scopeFor(run: Running, step: string, iteration: number | undefined): StepCommand['scope'] {
  const scope = itemScope(run.net, run.state, step, iteration);
  const reads = run.reads.get(step) ?? 'all';
  if (reads === 'all') return scope;
  const results: typeof scope.results = {};
  for (const name of reads) if (name in scope.results) results[name] = scope.results[name]!;
  return { ...scope, results };
}
