/**
 * Playbooks far larger than any team writes, to prove the checker and the
 * runtime walk steps without recursion and without per-step sets of ancestors:
 * a chain of 5,000 steps (which used to stop with a stack overflow) and a
 * 20,000-branch fan-out, each with reads of results that cannot be there yet;
 * and 100,000-step playbooks of three shapes (a chain, a fan-out joined again,
 * a chain whose last step jumps back to the first) parsed, checked and
 * compiled as the supervisor would, the chain run to its end by the engine.
 * Time and memory are printed, never asserted: correctness is (the right
 * verdicts at the right places, the net's shape, the run).
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { EXPRESSIONS } from '../../common/expressions.ts';
import type { ExecutionEvent } from '../../platform/bus/messages.ts';
import { apply, compileNet, decide, initialState, parsePlaybook, type Playbook } from '../../services/orchestrator/index.ts';
import { largePlaybook, stepName, type LargeShape } from '../helpers/large-playbooks.ts';

const ctx = { toolKinds: new Set(['noop']), products: new Set<string>() };
const STEPS = 100_000;

/** Parses and checks a generated playbook, printing how long it took and the heap it left. */
function check(t: TestContext, shape: LargeShape, steps: number, readsLater: number[] = []): ReturnType<typeof parsePlaybook> {
  const text = largePlaybook(shape, steps, 'large', { readsLater });
  const started = process.hrtime.bigint();
  const result = parsePlaybook(text, 'large.yaml', 'ops', ctx);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.diagnostic(`${shape} of ${steps} steps (${(text.length / 1e6).toFixed(1)} MB): checked in ${ms.toFixed(0)} ms, heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB`);
  return result;
}

function accepted(result: ReturnType<typeof parsePlaybook>): Playbook {
  assert.deepEqual(result.diagnostics, []);
  assert.ok(result.playbook);
  return result.playbook;
}

describe('large playbooks', () => {
  it('checks a chain of 5,000 steps (it used to stop with E_INTERNAL, a stack overflow), finding each read of a result not there yet', (t) => {
    const wrong = [1, 2_500, 4_998];
    const result = check(t, 'chain', 5_000, wrong);
    assert.equal(result.playbook, undefined);
    const last = stepName(4_999);
    const expected = wrong.map((i) => ['E_PLAYBOOK_UNDEFINED_VARIABLE', i + 5, `step "${stepName(i)}" uses results.${last}, but step "${last}" never runs before it`]);
    assert.deepEqual(result.diagnostics.map((d) => [d.code, d.line, d.message]), expected);
  });

  it('finds each branch of a 20,000-branch fan-out that reads a sibling, which runs beside it, not before', (t) => {
    const wrong = [1, 10_000, 19_997];
    const result = check(t, 'fan-out', 20_000, wrong);
    const expected = wrong.map((i) => ['E_PLAYBOOK_UNDEFINED_VARIABLE', i + 5, `step "${stepName(i)}" uses results.${stepName(i + 1)}, but step "${stepName(i + 1)}" never runs before it`]);
    assert.deepEqual(result.diagnostics.map((d) => [d.code, d.line, d.message]), expected);
  });

  it('checks, compiles and runs a 100,000-step chain to the end', (t) => {
    const net = compileNet(accepted(check(t, 'chain', STEPS)));
    assert.equal(net.transitions.get(stepName(STEPS - 1))!.from[0], stepName(STEPS - 2));
    const started = process.hrtime.bigint();
    let state = initialState(net, 'x', {});
    const ran: string[] = [];
    let n = 0;
    const push = (body: Record<string, unknown>): void => {
      state = apply(net, state, { ...body, eventId: `e${++n}`, executionId: 'x', at: new Date(0).toISOString() } as ExecutionEvent, EXPRESSIONS);
    };
    for (;;) {
      const decisions = decide(net, state, EXPRESSIONS);
      if (decisions.length === 0) break;
      assert.equal(decisions.length, 1, 'one step of a chain at a time');
      const decision = decisions[0]!;
      if (decision.type === 'complete') break;
      assert.equal(decision.type, 'dispatch', JSON.stringify(decision));
      if (decision.type !== 'dispatch') break;
      ran.push(decision.step);
      push({ type: 'step.dispatched', step: decision.step, attempt: 1, run: decision.run });
      push({ type: 'step.completed', step: decision.step, attempt: 1, run: decision.run, result: { kind: 'value', value: null }, durationMs: 1 });
    }
    t.diagnostic(`engine: ${STEPS} steps run in ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(0)} ms`);
    assert.equal(ran.length, STEPS);
    assert.ok(ran.every((step, i) => step === stepName(i)), 'in chain order');
  });

  it('checks and compiles a fan-out to 99,998 branches joined again', (t) => {
    const net = compileNet(accepted(check(t, 'fan-out', STEPS)));
    const join = net.transitions.get(stepName(STEPS - 1))!;
    assert.equal(join.inputs.length, STEPS - 2);
    assert.equal(new Set(join.from).size, STEPS - 2);
    assert.equal(net.transitions.get(stepName(0))!.outputs.length, STEPS - 2);
    // The engine fires the join once every branch has a token (all completed in one batch, as the supervisor may apply them).
    let state = initialState(net, 'x', {});
    const event = (body: Record<string, unknown>): ExecutionEvent => ({ ...body, eventId: 'e', executionId: 'x', at: new Date(0).toISOString() }) as ExecutionEvent;
    const run = (step: string): void => {
      state = apply(net, state, event({ type: 'step.dispatched', step, attempt: 1, run: 1 }), EXPRESSIONS);
      state = apply(net, state, event({ type: 'step.completed', step, attempt: 1, run: 1, result: { kind: 'value', value: null }, durationMs: 1 }), EXPRESSIONS);
    };
    run(stepName(0));
    const branches = decide(net, state, EXPRESSIONS);
    assert.equal(branches.length, STEPS - 2);
    for (const d of branches) if (d.type === 'dispatch') run(d.step);
    assert.deepEqual(decide(net, state, EXPRESSIONS), [{ type: 'dispatch', step: stepName(STEPS - 1), attempt: 1, run: 1 }]);
  });

  it('checks and compiles a 100,000-step chain whose last step jumps back to the first (one cycle through every step)', (t) => {
    // The first step reads the last one's result: allowed only because the jump closes a cycle.
    const net = compileNet(accepted(check(t, 'retry-cycle', STEPS)));
    assert.deepEqual(net.transitions.get(stepName(0))!.loopInputs, [`${stepName(STEPS - 1)}=>${stepName(0)}`]);
    assert.ok([...net.transitions.values()].every((tr) => tr.outputs.every((o) => o.back === (o.to === stepName(0)))), 'the jump is the only arc closing a cycle');
  });
});
