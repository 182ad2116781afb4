/**
 * Poison: one execution that the supervisor cannot carry on — its events
 * cannot be applied or stored, its commands cannot be sent, or it cannot be
 * rebuilt from its log — must not hold up the others or keep the server from
 * restarting. Such an execution is failed with E_EXECUTION_POISONED, written
 * straight to the log (no replay, no engine: those may be what fails), its
 * running steps are told to stop and a parent step hears it failed. Whether a
 * failure is poison is decided by asking the database: when it does not answer,
 * the failure is the database's, and nothing is failed (the messages come back).
 */
import { asNoetlError } from '../../../common/errors.ts';
import {
  unitFields,
  type Bus,
  type ErrorInfo,
  type ExecutionEvent,
  type ExecutionEventBody,
} from '../../../platform/bus/index.ts';
import type { ParentCommand } from '../../../platform/index.ts';
import type { ExecutionStore } from './execution-store.ts';

/** Whether a failure belongs to one execution (poison) rather than to the database or the bus (try again later). */
export async function isPoison(store: ExecutionStore, e: unknown): Promise<boolean> {
  const err = asNoetlError(e);
  if (err.code === 'E_BUS_UNAVAILABLE' || err.code === 'E_BUS_CLOSED') return false;
  return store.reachable();
}

type PoisonEvent = ExecutionEvent & { type: 'execution.failed'; error: ErrorInfo };

/** Fails a running execution as poisoned; the event written, or undefined when it had already ended (or is unknown). */
export async function failPoisoned(
  bus: Bus,
  store: ExecutionStore,
  executionId: string,
  cause: unknown,
  tellParent: (parent: ParentCommand, body: ExecutionEventBody) => Promise<void>,
): Promise<PoisonEvent | undefined> {
  const row = await store.execution(executionId);
  if (!row || row.status !== 'running') return undefined;
  const reason = asNoetlError(cause);
  const message = `the execution cannot go on, so it was failed (the others carry on): ${reason.code}: ${reason.message.slice(0, 2_000)}`;
  const error = { code: 'E_EXECUTION_POISONED', message, retryable: false };
  const failed: PoisonEvent = {
    type: 'execution.failed',
    error,
    eventId: `${executionId}:poisoned`,
    executionId,
    at: new Date().toISOString(),
  };
  await store.append([failed]);
  await bus.broadcast(bus.names.subjects.cancel, { executionId, reason: message }).catch(() => undefined);
  const parent = row.parent_command;
  if (parent) {
    const parentError = { ...error, message: `sub-playbook execution ${executionId} failed: ${message}` };
    await tellParent(parent, {
      type: 'step.failed',
      step: parent.step,
      attempt: parent.attempt,
      ...unitFields(parent),
      error: parentError,
      durationMs: 0,
    });
  }
  return failed;
}
