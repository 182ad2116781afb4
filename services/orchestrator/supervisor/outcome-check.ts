/**
 * A worker's report of a finished step is a claim, checked before it counts:
 * anyone who can publish to the events subject could otherwise repoint a
 * product at a file of their choosing. A product's current version moves only
 * for the step that `produces` it, to the version that execution published,
 * whose file has the checksum the report gives; any other table a step
 * reports must lie in its execution's staging. A report that does not check
 * out becomes the step's failure (E_OUTCOME_REJECTED), and its lineage is dropped.
 */
import { asNoetlError } from '../../../common/errors.ts';
import type { ArtifactStore, ExecutionEvent, StepResult, TableRef } from '../../../platform/index.ts';
import type { Step } from '../dsl/index.ts';

type Completed = Extract<ExecutionEvent, { type: 'step.completed' }>;
type Failed = Extract<ExecutionEvent, { type: 'step.failed' }>;

/** The event as it may be recorded: itself when it checks out, else the step's failure saying why. */
export async function checkOutcome(
  store: ArtifactStore,
  step: Step | undefined,
  event: ExecutionEvent,
): Promise<ExecutionEvent> {
  if (step === undefined) return event;
  if (event.type === 'step.failed') return checkFailure(store, step, event);
  if (event.type !== 'step.completed') return event;
  try {
    await checkCompleted(store, step, event);
    return event;
  } catch (e) {
    const { result: _result, quality: _quality, lineage: _lineage, output: _output, ...rest } = event;
    const error = { code: 'E_OUTCOME_REJECTED', message: asNoetlError(e).message, retryable: false };
    return { ...rest, type: 'step.failed', error };
  }
}

async function checkCompleted(store: ArtifactStore, step: Step, event: Completed): Promise<void> {
  const { executionId } = event;
  const quality = event.quality;
  if (quality === undefined) {
    if (step.produces !== undefined)
      reject(`step "${step.name}" produces ${step.produces}, but its report carries no quality gate result`);
    for (const table of tablesOf(event.result)) await store.verify(table, { executionId });
    return;
  }
  if (quality.productId !== step.produces) reject(`step "${step.name}" does not produce ${quality.productId}`);
  if (!quality.passed)
    reject(`step "${step.name}" reports ${quality.productId} published, but its gate result did not pass`);
  if (event.result.kind !== 'table' || event.result.uri !== quality.artifact.uri)
    reject(`step "${step.name}" reports a result other than the version it published`);
  await store.verify(quality.artifact, {
    executionId,
    published: { productId: quality.productId, materializationId: quality.materializationId },
  });
}

/** A rejected output stays staged: a failure's quality report is kept only if it is about this step's product, in this execution's staging. */
async function checkFailure(store: ArtifactStore, step: Step, event: Failed): Promise<ExecutionEvent> {
  const quality = event.quality;
  if (quality === undefined) return event;
  try {
    if (quality.productId !== step.produces) reject(`step "${step.name}" does not produce ${quality.productId}`);
    await store.verify(quality.artifact, { executionId: event.executionId });
    return event;
  } catch {
    const { quality: _quality, ...rest } = event;
    return rest;
  }
}

function tablesOf(result: StepResult): TableRef[] {
  if (result.kind === 'table') return [result];
  if (result.kind === 'list') return result.items.flatMap(tablesOf);
  return [];
}

function reject(message: string): never {
  throw new Error(message);
}
