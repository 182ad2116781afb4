import type { CheckResult } from '../../contracts/index.ts';
import type { RunEvent } from '../../lineage/index.ts';

/**
 * The messages services exchange over the bus, defined once. Commands go from
 * the orchestrator to a worker pool; events come back from workers (and are
 * written by the orchestrator itself). Nothing here carries row data: tables
 * travel as references. The subjects they travel on belong to a deployment
 * (deployment-names.ts; `bus.names` gives a bus's own).
 */

export interface ColumnSchema {
  name: string;
  type: string;
}

/** A table passed by reference: where it is and what it holds, never the rows. */
export interface TableRef {
  kind: 'table';
  uri: string;
  format: 'parquet';
  schema: ColumnSchema[];
  rows: number;
  bytes: number;
  sha256: string;
}

/** What a step gives back: a table by reference, a small JSON value, nothing, or (a loop) one result per item. */
export type StepResult = TableRef | { kind: 'value'; value: unknown } | { kind: 'none' } | { kind: 'list'; items: StepResult[] };

/** One check's outcome, as the contracts core computes it. */
export type QualityCheckOutcome = CheckResult;

export interface QualityReport {
  productId: string;
  contractVersion: string;
  passed: boolean;
  checks: QualityCheckOutcome[];
  conformance: { column: string; severity: 'error' | 'warning'; expected: string; observed: string; message: string }[];
  /** Where the output is: published when passed, staged otherwise. */
  artifact: TableRef;
  /** For a partitioned product: the partitions this run wrote, the only rows the checks read. */
  partitions?: Record<string, unknown>[];
  materializationId: string;
}

export interface ErrorInfo {
  code: string;
  message: string;
  retryable: boolean;
}

/** A step to run, sent to `<deployment>.commands.<pool>`; the message id is `commandId`. */
export interface StepCommand {
  commandId: string;
  executionId: string;
  playbook: string;
  domain: string;
  step: string;
  attempt: number;
  /** Which time the step runs in this execution (it runs again when a cycle comes back to it); absent = 1. */
  run?: number;
  /** For a loop step: the item this command runs. */
  iteration?: number;
  tool: { kind: string; [option: string]: unknown };
  /** Template scope: workload, execution_id, vars, the results of finished steps and, in a loop, the item. */
  scope: ExecutionScope;
  /** Published products the step reads, by product id. */
  consumes: Record<string, TableRef>;
  /** Steps with an arc into this one, with the product each publishes: where the data comes from, for lineage. */
  upstream: { step: string; produces: string | undefined }[];
  /** Do not start before this time (a retry's backoff). */
  notBefore?: string;
  /** Stop the step after this long. */
  timeoutMs?: number;
  /** The contract the step's output must honour before it is published (the plain contract model). */
  produces:
    | {
        productId: string;
        contract: unknown;
        /** Tables the checks read besides the output: relationship targets by table name, compared products by id. */
        references?: Record<string, TableRef>;
        /** The product's current published version, for drift checks. */
        previous?: TableRef;
      }
    | undefined;
}

/** What templates see of an execution. */
export interface ExecutionScope {
  /** In a loop: the item under the loop's iterator name, and `iteration`. */
  [name: string]: unknown;
  workload: Record<string, unknown>;
  execution_id: string;
  results: Record<string, StepResult>;
  /** Variables set by the arcs taken so far. */
  vars: Record<string, unknown>;
}

/** What a step's process printed (e.g. a python script), cut to size, secrets redacted. */
export interface ProcessOutput {
  stdout?: string;
  stderr?: string;
}

/** Which run of a step, and which item of a loop, a command or event is about; absent = the first run, no loop. */
export interface Unit {
  run?: number;
  iteration?: number;
}

/** The run (when not the first) and loop item, as commands and events carry them. */
export function unitFields(u: Unit): Unit {
  return { ...(u.run !== undefined && u.run > 1 ? { run: u.run } : {}), ...(u.iteration !== undefined ? { iteration: u.iteration } : {}) };
}

/** `step`, `step@2` (its second run, in a cycle), `step[3]` (item 3 of a loop), `step@2[3]`. */
export function unitName(u: Unit & { step: string }): string {
  return `${u.step}${u.run !== undefined && u.run > 1 ? `@${u.run}` : ''}${u.iteration !== undefined ? `[${u.iteration}]` : ''}`;
}

type EventBody =
  | { type: 'execution.started'; playbook: string; workload: Record<string, unknown>; consumes?: Record<string, TableRef> }
  | ({ type: 'step.dispatched'; step: string; attempt: number; commandId: string; notBefore?: string } & Unit)
  | { type: 'loop.started'; step: string; run?: number; items: unknown[] }
  | ({ type: 'step.started'; step: string; attempt: number; worker: string } & Unit)
  | ({ type: 'step.completed'; step: string; attempt: number; result: StepResult; quality?: QualityReport; durationMs: number; output?: ProcessOutput } & Unit)
  | ({ type: 'step.failed'; step: string; attempt: number; error: ErrorInfo; quality?: QualityReport; durationMs: number; output?: ProcessOutput } & Unit)
  /** `nth` from a step's second skip on (a step fed from inside a cycle can be skipped once per pass). */
  | { type: 'step.skipped'; step: string; nth?: number }
  | { type: 'execution.completed' }
  | { type: 'execution.cancelled'; reason: string }
  | { type: 'execution.failed'; error: ErrorInfo };

/** An event as its author writes it, before the envelope (id, execution, time) is added. */
export type ExecutionEventBody = EventBody;

/**
 * One entry of an execution's event log. `eventId` makes applying it idempotent;
 * `lineage` holds the OpenLineage run events the change amounts to (a step that
 * starts is both START and RUNNING), when there are any.
 */
export type ExecutionEvent = EventBody & { eventId: string; executionId: string; at: string; lineage?: RunEvent[] };

export type EventType = ExecutionEvent['type'];

/**
 * What travels on `<deployment>.events.<execution>`: events of one execution, in
 * order (a worker sends a quick step's start and outcome together). A lone
 * event, as sent before batches, is read as a batch of one.
 */
export type EventsMessage = ExecutionEvent[] | ExecutionEvent;

export function eventsOf(m: EventsMessage): ExecutionEvent[] {
  return Array.isArray(m) ? m : [m];
}
