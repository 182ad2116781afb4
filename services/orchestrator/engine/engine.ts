/**
 * The execution engine: pure functions over an execution's state. `apply` folds
 * one event into the state; `decide` says what should happen next. The state of
 * an execution is the fold of its event log, so replaying a log gives the same
 * state and the same decisions.
 *
 * Tokens are `live` or `skip`. A router puts live tokens on the arcs it takes
 * and skip tokens on the others (dead-path elimination), so a join always
 * resolves: it fires when every input holds a token and one is live, and is
 * skipped (passing skips on) when all are skips.
 */
import { NoetlError, asNoetlError } from '../../../common/errors.ts';
import type { ErrorInfo, ExecutionEvent, StepResult } from '../../../platform/bus/messages.ts';
import { retryDelayMs } from './backoff.ts';
import type { Net, Transition } from './net.ts';

export type Token = 'live' | 'skip';
export type StepStatus = 'waiting' | 'dispatched' | 'running' | 'retrying' | 'completed' | 'failed' | 'skipped';

export interface StepState {
  status: StepStatus;
  attempt: number;
  /** When the last attempt failed, for a retry's backoff. */
  failedAt?: string;
  /** When a dispatched retry may start. */
  notBefore?: string;
}

export interface ExecutionState {
  executionId: string;
  status: 'running' | 'completed' | 'failed' | 'cancelled';
  workload: Record<string, unknown>;
  marking: Record<string, Token>;
  steps: Record<string, StepState>;
  results: Record<string, StepResult>;
  error: ErrorInfo | undefined;
}

export type Decision =
  | { type: 'dispatch'; step: string; attempt: number; notBefore?: string }
  | { type: 'skip'; step: string }
  | { type: 'complete' }
  | { type: 'fail'; error: ErrorInfo };

/** Evaluates a `when` guard against a scope; injected so the engine stays free of the template library. */
export type GuardEvaluator = (expression: string | boolean, scope: Record<string, unknown>) => boolean;

export interface Limits {
  /** Steps of one execution dispatched or running at once. */
  maxInFlight: number;
}

const NO_LIMITS: Limits = { maxInFlight: Number.POSITIVE_INFINITY };

export function initialState(net: Net, executionId: string, workload: Record<string, unknown>): ExecutionState {
  const steps: ExecutionState['steps'] = {};
  for (const name of net.order) steps[name] = { status: 'waiting', attempt: 0 };
  return { executionId, status: 'running', workload, marking: { [net.initialPlace]: 'live' }, steps, results: {}, error: undefined };
}

/** The template scope of an execution: workload, execution id and finished steps' results. */
export function scopeOf(state: ExecutionState): { workload: Record<string, unknown>; execution_id: string; results: Record<string, StepResult> } {
  return { workload: state.workload, execution_id: state.executionId, results: state.results };
}

/**
 * Folds one event into the state, in place, and returns it. Deterministic: the
 * same events from the same initial state always give the same state. In
 * place because an execution of thousands of steps folds thousands of events:
 * copying its maps on every event would make a run quadratic. Step records
 * are replaced rather than edited, so a snapshot (structuredClone) taken by a
 * caller stays valid.
 */
export function apply(net: Net, state: ExecutionState, event: ExecutionEvent, guard: GuardEvaluator): ExecutionState {
  const s = state;
  switch (event.type) {
    case 'execution.started':
      return s;
    case 'step.started': {
      const step = s.steps[event.step];
      if (step?.status === 'dispatched') s.steps[event.step] = { ...step, status: 'running' };
      return s;
    }
    case 'step.dispatched':
      consumeInputs(net, s, event.step);
      s.steps[event.step] = event.notBefore ? { status: 'dispatched', attempt: event.attempt, notBefore: event.notBefore } : { status: 'dispatched', attempt: event.attempt };
      return s;
    case 'execution.cancelled':
      s.status = 'cancelled';
      s.error = { code: 'E_CANCELLED', message: event.reason, retryable: false };
      return s;
    case 'step.skipped': {
      consumeInputs(net, s, event.step);
      s.steps[event.step] = { status: 'skipped', attempt: s.steps[event.step]?.attempt ?? 0 };
      for (const out of transition(net, event.step).outputs) s.marking[out.place] = 'skip';
      return s;
    }
    case 'step.completed': {
      const step = s.steps[event.step];
      if (!step || (step.status !== 'dispatched' && step.status !== 'running') || step.attempt !== event.attempt) return s;
      s.steps[event.step] = { status: 'completed', attempt: step.attempt };
      s.results[event.step] = event.result;
      route(net, s, event.step, guard);
      return s;
    }
    case 'step.failed': {
      const step = s.steps[event.step];
      if (!step || (step.status !== 'dispatched' && step.status !== 'running') || step.attempt !== event.attempt) return s;
      const policy = transition(net, event.step).retry;
      if (event.error.retryable && policy && event.attempt < policy.maxAttempts && s.status === 'running' && !s.error) {
        s.steps[event.step] = { status: 'retrying', attempt: step.attempt, failedAt: event.at };
        return s;
      }
      s.steps[event.step] = { status: 'failed', attempt: step.attempt };
      const tries = event.attempt > 1 ? ` (attempt ${event.attempt})` : '';
      s.error ??= { ...event.error, message: `step "${event.step}" failed${tries}: ${event.error.message}` };
      return s;
    }
    case 'execution.completed':
      s.status = 'completed';
      return s;
    case 'execution.failed':
      s.status = 'failed';
      s.error = event.error;
      return s;
  }
}

/** What should happen next, given the state. Empty while steps are in flight and nothing is enabled. */
export function decide(net: Net, state: ExecutionState, limits: Limits = NO_LIMITS): Decision[] {
  if (state.status !== 'running') return [];
  // After a failure nothing new starts, retries included; the execution fails once the running steps settle.
  if (state.error) return running(state) ? [] : [{ type: 'fail', error: state.error }];
  // Called after every batch of events: one pass, no allocations per step (joins can have thousands of inputs).
  const out: Decision[] = [];
  let busy = 0;
  let retrying = 0;
  for (const name of net.order) {
    const st = state.steps[name]!;
    if (isRunning(st)) busy++;
    else if (st.status === 'retrying') retrying++;
  }
  let room = limits.maxInFlight - busy;
  for (const name of net.order) {
    const st = state.steps[name];
    if (st?.status !== 'waiting' && st?.status !== 'retrying') continue;
    const t = transition(net, name);
    if (st.status === 'retrying') {
      if (room <= 0) continue;
      room--;
      const delay = retryDelayMs(t.retry!, st.attempt, `${state.executionId}/${name}`);
      out.push({ type: 'dispatch', step: name, attempt: st.attempt + 1, notBefore: new Date(Date.parse(st.failedAt!) + delay).toISOString() });
      continue;
    }
    let enabled = true;
    let live = false;
    for (const p of t.inputs) {
      const tok = state.marking[p];
      if (tok === undefined) {
        enabled = false;
        break;
      }
      if (tok === 'live') live = true;
    }
    if (!enabled) continue;
    if (!live) out.push({ type: 'skip', step: name });
    else if (room > 0) {
      room--;
      out.push({ type: 'dispatch', step: name, attempt: 1 });
    }
  }
  if (out.length > 0 || busy > 0 || retrying > 0) return out;
  const stuck = net.order.filter((n) => state.steps[n]?.status === 'waiting' && hasAnyToken(net, state, n));
  if (stuck.length > 0) {
    return [{ type: 'fail', error: { code: 'E_INTERNAL', message: `steps ${stuck.join(', ')} wait for tokens that can never come`, retryable: false } }];
  }
  return [{ type: 'complete' }];
}

/** Replays an event log from a fresh initial state; the result equals the live state. */
export function replay(net: Net, events: readonly ExecutionEvent[], guard: GuardEvaluator): ExecutionState | undefined {
  const first = events[0];
  if (!first || first.type !== 'execution.started') return undefined;
  let state = initialState(net, first.executionId, first.workload);
  for (const e of events) state = apply(net, state, e, guard);
  return state;
}

function transition(net: Net, name: string): Transition {
  const t = net.transitions.get(name);
  if (!t) throw new NoetlError('E_PLAYBOOK_UNDEFINED_STEP', `no step "${name}" in this playbook`);
  return t;
}

function consumeInputs(net: Net, s: ExecutionState, step: string): void {
  for (const p of transition(net, step).inputs) delete s.marking[p];
}

function route(net: Net, s: ExecutionState, step: string, guard: GuardEvaluator): void {
  const t = transition(net, step);
  const scope = scopeOf(s);
  let taken = false;
  for (const out of t.outputs) {
    let live = false;
    if (!(t.mode === 'exclusive' && taken)) {
      try {
        live = out.when === undefined ? true : guard(out.when, scope);
      } catch (e) {
        const err = asNoetlError(e, 'E_TEMPLATE');
        s.error ??= { code: err.code, message: `routing from "${step}" to "${out.to}": ${err.message}`, retryable: false };
        live = false;
      }
    }
    taken ||= live;
    s.marking[out.place] = live ? 'live' : 'skip';
  }
}

function isRunning(st: StepState): boolean {
  return st.status === 'dispatched' || st.status === 'running';
}

function running(s: ExecutionState): boolean {
  return Object.values(s.steps).some(isRunning);
}

function hasAnyToken(net: Net, s: ExecutionState, step: string): boolean {
  return transition(net, step).inputs.some((p) => s.marking[p] !== undefined);
}
