/**
 * The execution engine: pure functions over an execution's state. `apply` folds
 * one event into the state; `decide` says what should happen next. The state of
 * an execution is the fold of its event log, so replaying a log gives the same
 * state and the same decisions.
 *
 * Tokens are `live` or `skip`. A router puts live tokens on the arcs it takes
 * and skip tokens on the others (dead-path elimination), so a join always
 * resolves: it fires when every input holds a token and one is live, and is
 * skipped (passing skips on) when all are skips. Arcs that close a cycle never
 * carry skips; while a router goes round its cycle it holds back the arcs it
 * did not take, and gives them their tokens when it leaves.
 */
import { NoetlError, asNoetlError } from '../../../common/errors.ts';
import type { ErrorInfo, ExecutionEvent, ExecutionScope, StepResult } from '../../../platform/bus/messages.ts';
import type { RetryRule } from '../dsl/model.ts';
import { retryDelayMs } from './backoff.ts';
import type { Net, OutputArc, Transition } from './net.ts';

export type Token = 'live' | 'skip';
export type StepStatus = 'waiting' | 'dispatched' | 'running' | 'retrying' | 'completed' | 'failed' | 'skipped';

/** One attempt chain: a step's run, or one item of a loop. */
export interface Attempts {
  status: StepStatus;
  attempt: number;
  /** When the last attempt failed, for a retry's backoff. */
  failedAt?: string;
  /** When a dispatched retry may start. */
  notBefore?: string;
  /** The retry rule that asked for the retry under way. */
  rule?: number;
}

/**
 * A loop under way. Besides its items, counts kept by `setItem`, so that
 * deciding and applying an item's event cost the same whether the loop has ten
 * items or a hundred thousand.
 */
export interface LoopState {
  items: unknown[];
  iterations: Attempts[];
  results: (StepResult | undefined)[];
  /** Items dispatched or running. */
  inFlight: Set<number>;
  /** Items waiting for a retry. */
  retrying: Set<number>;
  /** Items are first dispatched in order: those from this index on have never been. */
  next: number;
  completed: number;
}

export interface StepState extends Attempts {
  /** Times the step has fired in this execution (0 before the first). */
  run: number;
  loop?: LoopState;
}

export interface ExecutionState {
  executionId: string;
  status: 'running' | 'completed' | 'failed' | 'cancelled';
  workload: Record<string, unknown>;
  vars: Record<string, unknown>;
  /** The token at the head of each place that holds one. */
  marking: Record<string, Token>;
  /**
   * Tokens behind the head, in arrival order: a step inside a cycle feeds a step
   * outside it once per pass, and a pass may come round before that step took
   * the last token (its pool was full). Each token fires (or skips) it once.
   */
  queued: Record<string, Token[]>;
  /** Times each step was skipped, so every skip is an event of its own. */
  skips: Record<string, number>;
  steps: Record<string, StepState>;
  results: Record<string, StepResult>;
  error: ErrorInfo | undefined;
  /**
   * Steps dispatched, running or retrying, and loops under way (kept by `put`):
   * with the steps whose input places hold tokens, all that `decide` looks at,
   * so a decision costs what is happening, not the size of the playbook.
   */
  active: Set<string>;
}

export type Decision =
  | { type: 'dispatch'; step: string; attempt: number; run: number; iteration?: number; notBefore?: string }
  | { type: 'loop'; step: string; run: number; items: unknown[] }
  | { type: 'skip'; step: string; nth?: number }
  | { type: 'complete' }
  | { type: 'fail'; error: ErrorInfo };

/** Evaluates guards and values against a scope; injected so the engine stays free of the template library. */
export interface Expressions {
  guard(expression: string | boolean, scope: Record<string, unknown>): boolean;
  value(value: unknown, scope: Record<string, unknown>): unknown;
}

export interface Limits {
  /** Steps (and loop items) of one execution dispatched or running at once. */
  maxInFlight: number;
  /** Runs of one step in one execution before a cycle counts as runaway. */
  maxRuns: number;
}

export const DEFAULT_LIMITS: Limits = { maxInFlight: Number.POSITIVE_INFINITY, maxRuns: 1000 };

export function initialState(net: Net, executionId: string, workload: Record<string, unknown>): ExecutionState {
  const steps: ExecutionState['steps'] = {};
  for (const name of net.order) steps[name] = { status: 'waiting', attempt: 0, run: 0 };
  return { executionId, status: 'running', workload, vars: {}, marking: { [net.initialPlace]: 'live' }, queued: {}, skips: {}, steps, results: {}, error: undefined, active: new Set() };
}

/** The template scope of an execution: workload, execution id, variables and finished steps' results. */
export function scopeOf(state: ExecutionState): ExecutionScope {
  return { workload: state.workload, execution_id: state.executionId, results: state.results, vars: state.vars };
}

/** The scope of one loop item: the execution's, plus the item under the loop's iterator name and its index. */
export function itemScope(net: Net, state: ExecutionState, step: string, iteration: number | undefined): ExecutionScope {
  const loop = transition(net, step).loop;
  const items = state.steps[step]?.loop?.items;
  if (!loop || iteration === undefined || !items) return scopeOf(state);
  return { ...scopeOf(state), [loop.iterator]: items[iteration], iteration };
}

/**
 * Folds one event into the state, in place, and returns it. Deterministic: the
 * same events from the same initial state always give the same state. In
 * place because an execution of thousands of steps folds thousands of events:
 * copying its maps on every event would make a run quadratic (so would
 * copying a loop's items on each item's event: they are edited in place).
 */
export function apply(net: Net, state: ExecutionState, event: ExecutionEvent, ex: Expressions): ExecutionState {
  const s = state;
  switch (event.type) {
    case 'execution.started':
      return s;
    case 'step.started': {
      const unit = unitOf(s, event.step, event.run, event.iteration);
      if (unit?.status === 'dispatched') setUnit(s, event.step, event.iteration, { ...unit, status: 'running' });
      return s;
    }
    case 'step.dispatched': {
      const st = s.steps[event.step]!;
      const at = { attempt: event.attempt, ...(event.notBefore ? { notBefore: event.notBefore } : {}) };
      if (event.iteration !== undefined) {
        setUnit(s, event.step, event.iteration, { status: 'dispatched', ...at });
        return s;
      }
      // A retry keeps tokens that came in meanwhile; only a new run takes its inputs.
      if (event.attempt === 1) consumeInputs(net, s, event.step);
      put(s, event.step, { status: 'dispatched', ...at, run: event.run ?? st.run + (event.attempt === 1 ? 1 : 0) });
      return s;
    }
    case 'loop.started': {
      consumeInputs(net, s, event.step);
      const iterations = event.items.map((): Attempts => ({ status: 'waiting', attempt: 0 }));
      put(s, event.step, { status: 'running', attempt: 1, run: event.run ?? 1, loop: { items: event.items, iterations, results: [], inFlight: new Set(), retrying: new Set(), next: 0, completed: 0 } });
      if (event.items.length === 0) finish(net, s, event.step, { kind: 'list', items: [] }, ex);
      return s;
    }
    case 'execution.cancelled':
      s.status = 'cancelled';
      s.error = { code: 'E_CANCELLED', message: event.reason, retryable: false };
      return s;
    case 'step.skipped': {
      consumeInputs(net, s, event.step);
      const st = s.steps[event.step]!;
      put(s, event.step, { status: 'skipped', attempt: st.attempt, run: st.run });
      s.skips[event.step] = (s.skips[event.step] ?? 0) + 1;
      for (const out of transition(net, event.step).outputs) if (!out.back) putToken(s, out.place, 'skip');
      return s;
    }
    case 'step.completed': {
      const unit = unitOf(s, event.step, event.run, event.iteration);
      if (!unit || !inFlight(unit) || unit.attempt !== event.attempt) return s;
      complete(net, s, event.step, event.iteration, event.result, ex);
      return s;
    }
    case 'step.failed': {
      const unit = unitOf(s, event.step, event.run, event.iteration);
      if (!unit || !inFlight(unit) || unit.attempt !== event.attempt) return s;
      onFailure(net, s, event.step, event.iteration, unit, event, ex);
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
export function decide(net: Net, state: ExecutionState, ex: Expressions, limits: Limits = DEFAULT_LIMITS): Decision[] {
  if (state.status !== 'running') return [];
  // After a failure nothing new starts, retries included; the execution fails once the running steps settle.
  if (state.error) return running(state) ? [] : [{ type: 'fail', error: state.error }];
  // Called after every batch of events: one pass, no allocations per step (joins can have thousands of inputs).
  const out: Decision[] = [];
  let busy = 0;
  let pending = 0;
  // Only active steps and those with a token on an input can change; in playbook order, as if all were visited.
  const candidates = new Set(state.active);
  for (const place of Object.keys(state.marking)) candidates.add(net.consumer.get(place)!);
  const order = [...candidates].sort((a, b) => net.rank.get(a)! - net.rank.get(b)!);
  for (const name of state.active) {
    const st = state.steps[name]!;
    if (st.loop && st.status === 'running') {
      busy += st.loop.inFlight.size;
      pending += st.loop.retrying.size + st.loop.items.length - st.loop.next;
    } else if (inFlight(st)) busy++;
    else if (st.status === 'retrying') pending++;
  }
  let room = limits.maxInFlight - busy;
  for (const name of order) {
    const st = state.steps[name]!;
    const t = transition(net, name);
    if (st.loop && st.status === 'running') {
      room = dispatchItems(t, state, st, room, out);
      continue;
    }
    if (st.status === 'retrying') {
      if (room <= 0) continue;
      room--;
      out.push({ type: 'dispatch', step: name, attempt: st.attempt + 1, run: st.run, notBefore: retryAt(t, st, `${state.executionId}/${name}`) });
      continue;
    }
    if (inFlight(st)) continue;
    const fire = enabled(t, state);
    if (fire === undefined) continue;
    if (fire === 'skip') {
      const nth = (state.skips[name] ?? 0) + 1;
      out.push({ type: 'skip', step: name, ...(nth > 1 ? { nth } : {}) });
      continue;
    }
    if (st.run >= limits.maxRuns) {
      return [{ type: 'fail', error: { code: 'E_CYCLE_LIMIT', message: `step "${name}" would run a ${st.run + 1}th time; the limit is ${limits.maxRuns} runs per execution (does its cycle ever exit?)`, retryable: false } }];
    }
    if (t.loop) {
      const items = loopItems(t, state, ex);
      if (!Array.isArray(items)) return [{ type: 'fail', error: items }];
      out.push({ type: 'loop', step: name, run: st.run + 1, items });
      continue;
    }
    if (room <= 0) continue;
    room--;
    out.push({ type: 'dispatch', step: name, attempt: 1, run: st.run + 1 });
  }
  if (out.length > 0 || busy > 0 || pending > 0) return out;
  const stuck = net.order.filter((n) => hasAnyToken(net, state, n));
  if (stuck.length > 0) {
    return [{ type: 'fail', error: { code: 'E_INTERNAL', message: `steps ${stuck.join(', ')} wait for tokens that can never come`, retryable: false } }];
  }
  return [{ type: 'complete' }];
}

/** Replays an event log from a fresh initial state; the result equals the live state. */
/** The state of an execution known only to have failed (it could not be rebuilt): no steps, no results. */
export function endedState(executionId: string, error: ErrorInfo): ExecutionState {
  return { executionId, status: 'failed', workload: {}, vars: {}, marking: {}, queued: {}, skips: {}, steps: {}, results: {}, error, active: new Set() };
}

export function replay(net: Net, events: readonly ExecutionEvent[], ex: Expressions): ExecutionState | undefined {
  const first = events[0];
  if (!first || first.type !== 'execution.started') return undefined;
  let state = initialState(net, first.executionId, first.workload);
  for (const e of events) state = apply(net, state, e, ex);
  return state;
}

/** Whether a step can fire: 'live', 'skip' (every forward input holds a skip), or undefined (not enabled). */
function enabled(t: Transition, state: ExecutionState): Token | undefined {
  for (const p of t.loopInputs) if (state.marking[p] === 'live') return 'live';
  if (t.inputs.length === 0) return undefined;
  let live = false;
  for (const p of t.inputs) {
    const tok = state.marking[p];
    if (tok === undefined) return undefined;
    if (tok === 'live') live = true;
  }
  return live ? 'live' : 'skip';
}

function loopItems(t: Transition, state: ExecutionState, ex: Expressions): unknown[] | ErrorInfo {
  try {
    const items = ex.value(t.loop!.in, scopeOf(state));
    if (Array.isArray(items)) return items as unknown[];
    return { code: 'E_PLAYBOOK_LOOP_NOT_LIST', message: `step "${t.name}" loops over ${JSON.stringify(items)?.slice(0, 200)}, which is not a list`, retryable: false };
  } catch (e) {
    const err = asNoetlError(e, 'E_TEMPLATE');
    return { code: err.code, message: `the items of loop "${t.name}": ${err.message}`, retryable: false };
  }
}

/** Dispatches a loop's retrying and waiting items in item order, no more in flight than the loop and the execution allow; returns the room left. */
function dispatchItems(t: Transition, state: ExecutionState, st: StepState, room: number, out: Decision[]): number {
  const loop = st.loop!;
  let flying = loop.inFlight.size;
  // Retries are of items already dispatched once, so all come before `next`.
  for (const i of [...loop.retrying].sort((a, b) => a - b)) {
    if (room <= 0 || flying >= t.loop!.maxInFlight) return room;
    out.push({ type: 'dispatch', step: t.name, attempt: loop.iterations[i]!.attempt + 1, run: st.run, iteration: i, notBefore: retryAt(t, loop.iterations[i]!, `${state.executionId}/${t.name}/${i}`) });
    room--;
    flying++;
  }
  for (let i = loop.next; i < loop.items.length && room > 0 && flying < t.loop!.maxInFlight; i++) {
    out.push({ type: 'dispatch', step: t.name, attempt: 1, run: st.run, iteration: i });
    room--;
    flying++;
  }
  return room;
}

function retryAt(t: Transition, unit: Attempts, seed: string): string {
  const delay = retryDelayMs(t.retry[unit.rule ?? 0]!, unit.attempt, seed);
  return new Date(Date.parse(unit.failedAt!) + delay).toISOString();
}

function transition(net: Net, name: string): Transition {
  const t = net.transitions.get(name);
  if (!t) throw new NoetlError('E_PLAYBOOK_UNDEFINED_STEP', `no step "${name}" in this playbook`);
  return t;
}

/** The attempt chain an event is about, if it is about the step's current run. */
function unitOf(s: ExecutionState, step: string, run: number | undefined, iteration: number | undefined): Attempts | undefined {
  const st = s.steps[step];
  if (!st || (run ?? 1) !== Math.max(st.run, 1)) return undefined;
  return iteration === undefined ? st : st.loop?.iterations[iteration];
}

function setUnit(s: ExecutionState, step: string, iteration: number | undefined, unit: Attempts): void {
  const st = s.steps[step]!;
  if (iteration === undefined) {
    put(s, step, { ...unit, run: st.run, ...(st.loop ? { loop: st.loop } : {}) });
    return;
  }
  setItem(st.loop!, iteration, unit);
}

/** The one way a loop item's record changes: keeps the loop's counts in step. */
function setItem(loop: LoopState, i: number, unit: Attempts): void {
  const was = loop.iterations[i]!;
  loop.iterations[i] = unit;
  if (inFlight(was)) loop.inFlight.delete(i);
  if (was.status === 'retrying') loop.retrying.delete(i);
  if (was.status === 'completed') loop.completed--;
  if (inFlight(unit)) loop.inFlight.add(i);
  if (unit.status === 'retrying') loop.retrying.add(i);
  if (unit.status === 'completed') loop.completed++;
  if (was.status === 'waiting' && i >= loop.next) loop.next = i + 1;
}

/** The one way a step's record changes: keeps `active` in step. */
function put(s: ExecutionState, step: string, st: StepState): void {
  s.steps[step] = st;
  if (inFlight(st) || st.status === 'retrying' || (st.loop !== undefined && st.status === 'running')) s.active.add(step);
  else s.active.delete(step);
}

function consumeInputs(net: Net, s: ExecutionState, step: string): void {
  const t = transition(net, step);
  for (const p of [...t.inputs, ...t.loopInputs]) {
    const next = s.queued[p]?.shift();
    if (next === undefined) delete s.marking[p];
    else s.marking[p] = next;
    if (s.queued[p]?.length === 0) delete s.queued[p];
  }
}

/** A run (or an item) succeeded; a step whose items are all done completes with their results in order. */
function complete(net: Net, s: ExecutionState, step: string, iteration: number | undefined, result: StepResult, ex: Expressions): void {
  const st = s.steps[step]!;
  if (iteration === undefined) {
    finish(net, s, step, result, ex);
    return;
  }
  const unit = st.loop!.iterations[iteration]!;
  setUnit(s, step, iteration, { status: 'completed', attempt: unit.attempt });
  const loop = s.steps[step]!.loop!;
  loop.results[iteration] = result;
  if (loop.completed === loop.items.length) finish(net, s, step, { kind: 'list', items: loop.results.map((r) => r ?? { kind: 'none' }) }, ex);
}

function finish(net: Net, s: ExecutionState, step: string, result: StepResult, ex: Expressions, jumpTo?: string): void {
  const st = s.steps[step]!;
  put(s, step, { status: 'completed', attempt: st.attempt, run: st.run });
  s.results[step] = result;
  route(net, s, step, ex, jumpTo);
}

/** The first retry rule whose `when` holds decides what a failed attempt leads to. */
function onFailure(net: Net, s: ExecutionState, step: string, iteration: number | undefined, unit: Attempts, event: Extract<ExecutionEvent, { type: 'step.failed' }>, ex: Expressions): void {
  const t = transition(net, step);
  const scope = { ...itemScope(net, s, step, iteration), error: event.error, attempt: event.attempt };
  let chosen: { rule: RetryRule; index: number } | undefined;
  try {
    const index = t.retry.findIndex((r) => r.when === undefined || ex.guard(r.when, scope));
    if (index >= 0) chosen = { rule: t.retry[index]!, index };
  } catch (e) {
    const err = asNoetlError(e, 'E_TEMPLATE');
    s.error ??= { code: err.code, message: `the retry rules of "${step}": ${err.message}`, retryable: false };
  }
  const action = chosen?.rule.then ?? 'fail';
  const handled: StepResult = { kind: 'value', value: { error: { code: event.error.code, message: event.error.message } } };
  if (action === 'retry' && event.attempt < chosen!.rule.attempts && s.status === 'running' && !s.error) {
    setUnit(s, step, iteration, { status: 'retrying', attempt: unit.attempt, failedAt: event.at, rule: chosen!.index });
  } else if (action === 'continue' && !s.error) {
    complete(net, s, step, iteration, handled, ex);
  } else if (action === 'jump' && iteration === undefined && !s.error) {
    finish(net, s, step, handled, ex, chosen!.rule.step);
  } else {
    // A loop stays running while its other items settle; the execution fails after them.
    setUnit(s, step, iteration, { status: 'failed', attempt: unit.attempt });
    const tries = event.attempt > 1 ? ` (attempt ${event.attempt})` : '';
    const item = iteration === undefined ? '' : ` on item ${iteration}`;
    s.error ??= { ...event.error, message: `step "${step}" failed${item}${tries}: ${event.error.message}` };
  }
}

/**
 * Puts tokens on a finished step's arcs: live on those taken, skip on the rest
 * (never on an arc closing a cycle, and not at all while the step goes round
 * its cycle). `jumpTo` takes that jump arc alone. Taken arcs set their vars.
 */
function route(net: Net, s: ExecutionState, step: string, ex: Expressions, jumpTo?: string): void {
  const t = transition(net, step);
  const taken = new Set<OutputArc>();
  for (const out of t.outputs) {
    if (jumpTo !== undefined) {
      if (out.jump && out.to === jumpTo) taken.add(out);
      continue;
    }
    if (out.jump || (t.mode === 'exclusive' && taken.size > 0)) continue;
    try {
      if (out.when === undefined || ex.guard(out.when, scopeOf(s))) {
        taken.add(out);
        if (out.set) Object.assign(s.vars, ex.value(out.set, scopeOf(s)) as Record<string, unknown>);
      }
    } catch (e) {
      const err = asNoetlError(e, 'E_TEMPLATE');
      s.error ??= { code: err.code, message: `routing from "${step}" to "${out.to}": ${err.message}`, retryable: false };
    }
  }
  const looping = [...taken].some((o) => o.back);
  for (const out of t.outputs) {
    if (taken.has(out)) putToken(s, out.place, 'live');
    else if (!out.back && !looping) putToken(s, out.place, 'skip');
  }
}

/** A token arrives at a place: it heads the place, or waits behind the token already there. */
function putToken(s: ExecutionState, place: string, token: Token): void {
  if (s.marking[place] === undefined) s.marking[place] = token;
  else (s.queued[place] ??= []).push(token);
}

function inFlight(u: Attempts): boolean {
  return u.status === 'dispatched' || u.status === 'running';
}

function running(s: ExecutionState): boolean {
  for (const st of Object.values(s.steps)) {
    if (st.loop && st.status === 'running') {
      if (st.loop.inFlight.size > 0) return true;
    } else if (inFlight(st)) return true;
  }
  return false;
}

function hasAnyToken(net: Net, s: ExecutionState, step: string): boolean {
  const t = transition(net, step);
  return t.inputs.some((p) => s.marking[p] !== undefined) || t.loopInputs.some((p) => s.marking[p] !== undefined);
}
