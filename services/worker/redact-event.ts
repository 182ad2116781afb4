/**
 * Nothing a step reports leaves its worker with a credential in it: an API
 * that echoes the bearer token it was sent, a script that prints a password,
 * a driver error that quotes a connection string, a lineage event whose error
 * or SQL facet holds one. Every event a worker publishes goes through here,
 * redacted with every credential the worker holds, in every form a secret
 * travels in (common/secret-redaction.ts). What the supervisor matches on (ids,
 * step names, times) and the references to noetl's own files stay as they are.
 */
import type { Redactor } from '../../common/secret-redaction.ts';
import type { RunEvent } from '../../lineage/index.ts';
import type { ExecutionEvent, StepResult } from '../../platform/bus/messages.ts';

/** The event with its results, process output, error, quality report and OpenLineage events redacted. */
export function redactEvent(event: ExecutionEvent, redactor: Redactor): ExecutionEvent {
  if (redactor.empty) return event;
  const out = { ...event } as ExecutionEvent & Record<string, unknown>;
  if ('result' in event) out.result = redactResult(event.result, redactor);
  if ('error' in event) out.error = { ...event.error, message: redactor.text(event.error.message) };
  if ('output' in event && event.output) out.output = redactor.value(event.output);
  if ('quality' in event && event.quality) {
    const { checks, conformance } = event.quality;
    out.quality = { ...event.quality, checks: redactor.value(checks), conformance: redactor.value(conformance) };
  }
  if (event.lineage) out.lineage = event.lineage.map((run) => redactRunEvent(run, redactor));
  return out;
}

/** A value result in full; a table reference is noetl's own and stays. */
function redactResult(result: StepResult, redactor: Redactor): StepResult {
  if (result.kind === 'value') return { kind: 'value', value: redactor.value(result.value) };
  if (result.kind === 'list') return { kind: 'list', items: result.items.map((item) => redactResult(item, redactor)) };
  return result;
}

/** Every facet and name of a run event; its identity (type, time, run id) stays. */
function redactRunEvent(run: RunEvent, redactor: Redactor): RunEvent {
  const redacted = redactor.value(run);
  const { eventType, eventTime, producer, schemaURL } = run;
  return { ...redacted, eventType, eventTime, producer, schemaURL, run: { ...redacted.run, runId: run.run.runId } };
}
