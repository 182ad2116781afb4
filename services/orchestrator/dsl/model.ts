/** The playbook as the orchestrator reads it, after parsing and validation. */
import type { PathSegment } from '../../../common/yaml-source.ts';

export type RouteMode = 'inclusive' | 'exclusive';

export interface Arc {
  step: string;
  when: string | boolean | undefined;
  /** Variables the arc sets when it is taken, visible afterwards as `vars.<name>`. */
  set: Record<string, unknown> | undefined;
  path: PathSegment[];
}

/**
 * One tool invocation. A task list (`tool: [ ... ]`) is the tool kind `tasks`
 * with the ordered tools in `tasks`; each task sees the previous one's result.
 */
export interface ToolSpec {
  kind: string;
  [option: string]: unknown;
}

export interface BackoffPolicy {
  backoff: 'fixed' | 'linear' | 'exponential';
  delayMs: number;
  maxDelayMs: number;
  /** Fraction of the delay randomised either way (0 = none). */
  jitter: number;
}

/** What to do with a failed attempt. */
export type RetryAction = 'retry' | 'continue' | 'fail' | 'jump';

/**
 * A retry rule: the first rule whose `when` holds (over the error, attempt and
 * the execution scope) decides. No rule matching means the step fails.
 */
export interface RetryRule extends BackoffPolicy {
  when: string | boolean | undefined;
  then: RetryAction;
  /** For `retry`: attempts in all, the first included. */
  attempts: number;
  /** For `jump`: the step to go to instead. */
  step: string | undefined;
  path: PathSegment[];
}

export interface Loop {
  /** A template (or a literal list) giving the items. */
  in: unknown;
  /** The name an item has in the step's templates. */
  iterator: string;
  mode: 'sequential' | 'parallel';
  /** Items running at once (1 when sequential). */
  maxInFlight: number;
  path: PathSegment[];
}

export interface Step {
  name: string;
  desc: string | undefined;
  tool: ToolSpec;
  mode: RouteMode;
  next: Arc[];
  produces: string | undefined;
  consumes: string[];
  retry: RetryRule[];
  loop: Loop | undefined;
  timeoutMs: number | undefined;
  /** Pool labels the step needs (e.g. `gpu`); empty = any pool. */
  resources: string[];
  path: PathSegment[];
}

export interface Playbook {
  /** `<domain>/<name>`. */
  ref: string;
  domain: string;
  name: string;
  description: string | undefined;
  tags: string[];
  workload: Record<string, unknown>;
  /** A JSON Schema the workload (defaults merged with run parameters) must satisfy. */
  workloadSchema: Record<string, unknown> | undefined;
  /** Credentials the playbook may use, by name; their values stay with the workers. */
  keychain: { name: string; kind: string | undefined }[];
  steps: Step[];
  file: string;
}

/** The tool kind a sub-playbook step has; the orchestrator runs it as a child execution. */
export const PLAYBOOK_TOOL = 'playbook';
/** The tool kind of a task list. */
export const TASKS_TOOL = 'tasks';

/** The first step of the workflow is where every execution begins. */
export function startStep(p: Playbook): Step {
  return p.steps[0]!;
}

/** The tools a step runs: the tasks of a task list, or its one tool. */
export function toolsOf(step: Step): ToolSpec[] {
  return step.tool.kind === TASKS_TOOL ? (step.tool.tasks as ToolSpec[]) : [step.tool];
}
