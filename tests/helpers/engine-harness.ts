/**
 * Drives the pure engine as the supervisor would: records the orchestrator's
 * decisions as events, and lets a test play the workers (complete, fail).
 */
import assert from 'node:assert/strict';
import { EXPRESSIONS } from '../../common/expressions.ts';
import type { ExecutionEvent } from '../../platform/bus/messages.ts';
import { apply, compileNet, decide, initialState, parsePlaybook, type Decision, type ExecutionState, type Limits, type Net } from '../../services/orchestrator/index.ts';
import { decisionEvent } from '../../services/orchestrator/supervisor/decisions.ts';

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
  private readonly keys = new Set<string>();
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
  /**
   * Records the orchestrator's own decisions until only worker events can move
   * things on, as the supervisor records them: each under its event key, so a
   * decision whose event was already recorded (which would make the supervisor
   * decide the same thing forever) fails the test.
   */
  settle(limits?: Limits): Decision[] {
    const all: Decision[] = [];
    for (let d = decide(this.net, this.state, EXPRESSIONS, limits); d.length > 0; d = decide(this.net, this.state, EXPRESSIONS, limits)) {
      for (const x of d) {
        all.push(x);
        const { body, key } = decisionEvent('x', x);
        assert.ok(!this.keys.has(key), `decided again what is already recorded: ${key}`);
        this.keys.add(key);
        this.push(body as unknown as Record<string, unknown>);
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
