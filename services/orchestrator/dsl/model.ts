/** The playbook as the orchestrator reads it, after parsing and validation. */
import type { PathSegment } from '../../../common/yaml-source.ts';

export type RouteMode = 'inclusive' | 'exclusive';

export interface Arc {
  step: string;
  when: string | boolean | undefined;
  path: PathSegment[];
}

export interface ToolSpec {
  kind: string;
  [option: string]: unknown;
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  backoff: 'fixed' | 'linear' | 'exponential';
  delayMs: number;
  maxDelayMs: number;
  /** Fraction of the delay randomised either way (0 = none). */
  jitter: number;
}

export interface Step {
  name: string;
  desc: string | undefined;
  tool: ToolSpec;
  mode: RouteMode;
  next: Arc[];
  produces: string | undefined;
  consumes: string[];
  retry: RetryPolicy | undefined;
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
  workload: Record<string, unknown>;
  /** Credentials the playbook may use, by name; their values stay with the workers. */
  keychain: { name: string; kind: string | undefined }[];
  steps: Step[];
  file: string;
}

/** The first step of the workflow is where every execution begins. */
export function startStep(p: Playbook): Step {
  return p.steps[0]!;
}
