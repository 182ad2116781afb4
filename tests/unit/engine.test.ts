import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXPRESSIONS } from '../../common/expressions.ts';
import { Harness, netOf } from '../helpers/engine-harness.ts';
import { decide, DEFAULT_LIMITS, replay, type Net } from '../../services/orchestrator/index.ts';
import { retryDelayMs } from '../../services/orchestrator/engine/backoff.ts';

const net = (workflow: string): Net => netOf(workflow);

const diamond = `  - step: start
    next: [{ step: a }, { step: b }]
  - step: a
    next: [{ step: join }]
  - step: b
    next: [{ step: join }]
  - step: join
`;

describe('net engine', () => {
  it('fans out to parallel branches and joins only when both have finished', () => {
    const h = new Harness(net(diamond));
    h.settle();
    assert.deepEqual(h.dispatched(), ['start']);
    h.complete('start');
    h.settle();
    assert.deepEqual(h.dispatched(), ['a', 'b']);
    h.complete('a');
    assert.deepEqual(h.settle(), [], 'the join waits for b');
    h.complete('b');
    assert.deepEqual(h.settle(), [{ type: 'dispatch', step: 'join', attempt: 1, run: 1 }]);
    h.complete('join');
    assert.deepEqual(h.settle(), [{ type: 'complete' }]);
    assert.equal(h.state.status, 'completed');
  });

  it('exclusive routing skips the arcs not taken and the join still fires (dead-path elimination)', () => {
    const h = new Harness(net(diamond.replace('    next: [{ step: a }, { step: b }]', '    next:\n      mode: exclusive\n      arcs:\n        - { step: a, when: "{{ workload.go }}" }\n        - { step: b }')), { go: false });
    h.settle();
    h.complete('start');
    assert.deepEqual(h.settle(), [{ type: 'skip', step: 'a' }, { type: 'dispatch', step: 'b', attempt: 1, run: 1 }]);
    h.complete('b');
    assert.deepEqual(h.settle(), [{ type: 'dispatch', step: 'join', attempt: 1, run: 1 }]);
    h.complete('join');
    h.settle();
    assert.equal(h.state.status, 'completed');
    assert.equal(h.state.steps.a!.status, 'skipped');
  });

  it('exclusive routing takes only the first true arc', () => {
    const h = new Harness(net(diamond.replace('    next: [{ step: a }, { step: b }]', '    next:\n      mode: exclusive\n      arcs: [{ step: a }, { step: b }]')));
    h.settle();
    h.complete('start');
    assert.deepEqual(h.settle(), [{ type: 'dispatch', step: 'a', attempt: 1, run: 1 }, { type: 'skip', step: 'b' }]);
  });

  it('a join whose inputs are all skipped is skipped and passes the skip on', () => {
    const h = new Harness(net(`  - step: start
    next: [{ step: a, when: "{{ workload.go }}" }, { step: b, when: false }]
  - step: a
    next: [{ step: join }]
  - step: b
    next: [{ step: join }]
  - step: join
    next: [{ step: after }]
  - step: after
`), { go: false });
    h.settle();
    h.complete('start');
    assert.deepEqual(h.settle(), [{ type: 'skip', step: 'a' }, { type: 'skip', step: 'b' }, { type: 'skip', step: 'join' }, { type: 'skip', step: 'after' }, { type: 'complete' }]);
  });

  it('routes on step results', () => {
    const h = new Harness(net(`  - step: start
    next: [{ step: big, when: "{{ results.start.value > 10 }}" }, { step: small, when: "{{ results.start.value <= 10 }}" }]
  - step: big
  - step: small
`));
    h.settle();
    h.complete('start', 42);
    assert.deepEqual(h.settle(), [{ type: 'dispatch', step: 'big', attempt: 1, run: 1 }, { type: 'skip', step: 'small' }]);
  });

  it('fails the execution when a step fails, after in-flight steps settle', () => {
    const h = new Harness(net(diamond));
    h.settle();
    h.complete('start');
    h.settle();
    h.push({ type: 'step.failed', step: 'a', attempt: 1, error: { code: 'E_TOOL_SQL', message: 'boom', retryable: false }, durationMs: 1 });
    assert.deepEqual(h.settle(), [], 'b is still running');
    h.complete('b');
    const d = h.settle();
    assert.equal(d.length, 1);
    assert.equal(d[0]!.type, 'fail');
    assert.equal(h.state.status, 'failed');
    assert.match(h.state.error!.message, /step "a" failed: boom/);
    assert.equal(h.state.steps.join!.status, 'waiting', 'nothing is dispatched after a failure');
  });

  it('fails with E_TEMPLATE when a guard cannot be evaluated', () => {
    const h = new Harness(net(`  - step: start
    next: [{ step: a, when: "{{ workload.go | no_such_filter }}" }]
  - step: a
`));
    h.settle();
    h.complete('start');
    h.settle();
    assert.equal(h.state.status, 'failed');
    assert.equal(h.state.error!.code, 'E_TEMPLATE');
  });

  it('ignores an outcome for a step that is not running (a duplicate or stale delivery)', () => {
    const h = new Harness(net(diamond));
    h.settle();
    h.complete('start');
    h.settle();
    const before = structuredClone(h.state);
    h.complete('start', 'again');
    assert.deepEqual(h.state, before);
  });

  it('replaying the event log gives the same state and the same decisions', () => {
    const n = net(diamond);
    const h = new Harness(n);
    h.settle();
    h.complete('start');
    h.settle();
    h.complete('b');
    h.settle();
    const replayed = replay(n, h.log, EXPRESSIONS)!;
    assert.deepEqual(replayed, h.state);
    assert.deepEqual(decide(n, replayed, EXPRESSIONS), decide(n, h.state, EXPRESSIONS));
  });
});

describe('retries, limits and cancellation', () => {
  const flaky = `  - step: start
    retry: { max_attempts: 3, backoff: exponential, delay: 1s }
    next: [{ step: after }]
  - step: after
`;

  it('retries a retryable failure with exponential backoff, then fails naming the attempt', () => {
    const h = new Harness(net(flaky));
    h.settle();
    h.fail('start', 1, '2026-01-01T00:00:00.000Z');
    assert.deepEqual(h.settle(), [{ type: 'dispatch', step: 'start', attempt: 2, run: 1, notBefore: '2026-01-01T00:00:01.000Z' }]);
    h.fail('start', 2, '2026-01-01T00:00:05.000Z');
    assert.deepEqual(h.settle(), [{ type: 'dispatch', step: 'start', attempt: 3, run: 1, notBefore: '2026-01-01T00:00:07.000Z' }]);
    h.fail('start', 3, '2026-01-01T00:00:09.000Z');
    const d = h.settle();
    assert.equal(d[0]?.type, 'fail');
    assert.match(h.state.error!.message, /step "start" failed \(attempt 3\): boom/);
  });

  it('a retry that succeeds carries on to the next step', () => {
    const h = new Harness(net(flaky));
    h.settle();
    h.fail('start', 1, '2026-01-01T00:00:00.000Z');
    h.settle();
    h.complete('start', null, 2);
    assert.deepEqual(h.settle(), [{ type: 'dispatch', step: 'after', attempt: 1, run: 1 }]);
  });

  it('does not retry an error that is not retryable', () => {
    const h = new Harness(net(flaky));
    h.settle();
    h.fail('start', 1, '2026-01-01T00:00:00.000Z', false);
    assert.equal(h.settle()[0]?.type, 'fail');
  });

  it('does not start a retry once another step has failed', () => {
    const h = new Harness(net(`  - step: start
    next: [{ step: a }, { step: b }]
  - step: a
    retry: { max_attempts: 5, delay: 1s }
  - step: b
`));
    h.settle();
    h.complete('start');
    h.settle();
    h.fail('b', 1, '2026-01-01T00:00:00.000Z', false);
    h.fail('a', 1, '2026-01-01T00:00:00.000Z');
    const d = h.settle();
    assert.equal(d.length, 1);
    assert.equal(d[0]!.type, 'fail');
  });

  it('computes fixed, linear and exponential delays, capped, with bounded deterministic jitter', () => {
    const p = { maxAttempts: 9, delayMs: 100, maxDelayMs: 1000, jitter: 0 };
    assert.deepEqual([1, 2, 3].map((a) => retryDelayMs({ ...p, backoff: 'fixed' }, a, 's')), [100, 100, 100]);
    assert.deepEqual([1, 2, 3].map((a) => retryDelayMs({ ...p, backoff: 'linear' }, a, 's')), [100, 200, 300]);
    assert.deepEqual([1, 2, 3, 4, 5].map((a) => retryDelayMs({ ...p, backoff: 'exponential' }, a, 's')), [100, 200, 400, 800, 1000]);
    const jittered = [1, 2, 3, 4, 5, 6, 7, 8].map((a) => retryDelayMs({ ...p, backoff: 'fixed', jitter: 0.5 }, a, 'seed'));
    assert.ok(jittered.every((d) => d >= 50 && d <= 150), String(jittered));
    assert.ok(new Set(jittered).size > 1, 'jitter varies between attempts');
    assert.deepEqual(jittered, [1, 2, 3, 4, 5, 6, 7, 8].map((a) => retryDelayMs({ ...p, backoff: 'fixed', jitter: 0.5 }, a, 'seed')), 'and is the same on replay');
  });

  it('keeps at most maxInFlight steps of an execution running', () => {
    const h = new Harness(net(`  - step: start
    next: [{ step: a }, { step: b }, { step: c }, { step: d }]
  - step: a
  - step: b
  - step: c
  - step: d
`));
    const limits = { ...DEFAULT_LIMITS, maxInFlight: 2 };
    h.settle(limits);
    h.complete('start');
    assert.deepEqual(h.settle(limits).map((x) => (x.type === 'dispatch' ? x.step : x.type)), ['a', 'b']);
    h.complete('a');
    assert.deepEqual(h.settle(limits).map((x) => (x.type === 'dispatch' ? x.step : x.type)), ['c']);
    h.complete('b');
    h.complete('c');
    assert.deepEqual(h.settle(limits).map((x) => (x.type === 'dispatch' ? x.step : x.type)), ['d']);
    h.complete('d');
    assert.deepEqual(h.settle(limits), [{ type: 'complete' }]);
  });

  it('a cancelled execution decides nothing more', () => {
    const h = new Harness(net(diamond));
    h.settle();
    h.complete('start');
    h.settle();
    h.push({ type: 'execution.cancelled', reason: 'cancelled by alice' });
    h.complete('a');
    assert.deepEqual(h.settle(), []);
    assert.equal(h.state.status, 'cancelled');
    assert.equal(h.state.error!.code, 'E_CANCELLED');
  });
});
