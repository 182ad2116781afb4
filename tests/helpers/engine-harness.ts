/**
 * Drives the pure engine as the supervisor would: records the orchestrator's
 * decisions as events, and lets a test play the workers (complete, fail).
 */
import assert from 'node:assert/strict';
import { EXPRESSIONS } from '../../common/expressions.ts';
import type { ExecutionEvent } from '../../platform/bus/messages.ts';
import { apply, compileNet, decide, initialState, parsePlaybook, type Decision, type ExecutionState, type Limits, type Net } from '../../services/orchestrator/index.ts';

const ctx = { toolKinds: new Set(['noop']), products: new Set<string>() };

/** A net from the `workflow:` lines of a playbook (and optional top-level YAML before them). */
export function netOf(workflow: string, head = 'workload: { go: false }\n'): Net {
  const text = `apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: { name: t }\n${head}workflow:\n${workflow}`;
  const r = parsePlaybook(text, 't.yaml', 'd', ctx);
  assert.deepEqual(r.diagnostics, []);
  return compileNet(r.playbook!);
}

interface Unit {
  attempt?: number;
  run?: number;
  iteration?: number;
}

export class Harness {
  state: ExecutionState;
  log: ExecutionEvent[] = [];
  private n = 0;
  constructor(
    readonly net: Net,
    workload: Record<string, unknown> = {},
  ) {
    this.state = initialState(net, 'x', workload);
    this.push({ type: 'execution.started', playbook: 'd/t', workload });
  }
  push(body: Record<string, unknown>, at = new Date(0).toISOString()): void {
    const e = { ...body, eventId: `e${++this.n}`, executionId: 'x', at } as ExecutionEvent;
    this.log.push(e);
    this.state = apply(this.net, this.state, e, EXPRESSIONS);
  }
  /** Records the orchestrator's own decisions until only worker events can move things on. */
  settle(limits?: Limits): Decision[] {
    const all: Decision[] = [];
    for (let d = decide(this.net, this.state, EXPRESSIONS, limits); d.length > 0; d = decide(this.net, this.state, EXPRESSIONS, limits)) {
      for (const x of d) {
        all.push(x);
        if (x.type === 'dispatch') this.push({ type: 'step.dispatched', step: x.step, attempt: x.attempt, run: x.run, iteration: x.iteration, commandId: `${x.step}` });
        if (x.type === 'loop') this.push({ type: 'loop.started', step: x.step, run: x.run, items: x.items });
        if (x.type === 'skip') this.push({ type: 'step.skipped', step: x.step });
        if (x.type === 'complete') this.push({ type: 'execution.completed' });
        if (x.type === 'fail') this.push({ type: 'execution.failed', error: x.error });
      }
    }
    return all;
  }
  complete(step: string, value: unknown = null, unit: Unit | number = {}): void {
    const u = typeof unit === 'number' ? { attempt: unit } : unit;
    this.push({ type: 'step.completed', step, attempt: u.attempt ?? 1, run: u.run, iteration: u.iteration, result: { kind: 'value', value }, durationMs: 1 });
  }
  fail(step: string, attempt: number, at: string, retryable = true, unit: Unit & { code?: string } = {}): void {
    const code = unit.code ?? (retryable ? 'E_TOOL_FAILED' : 'E_TOOL_SQL');
    this.push({ type: 'step.failed', step, attempt, run: unit.run, iteration: unit.iteration, error: { code, message: 'boom', retryable }, durationMs: 1 }, at);
  }
  dispatched(): string[] {
    return Object.entries(this.state.steps).filter(([, s]) => s.status === 'dispatched').map(([n]) => n).sort();
  }
  /** Items of a loop step dispatched or running. */
  itemsInFlight(step: string): number[] {
    return (this.state.steps[step]?.loop?.iterations ?? []).flatMap((it, i) => (it.status === 'dispatched' || it.status === 'running' ? [i] : []));
  }
}
