/**
 * The playbook language's runtime semantics on the pure engine: loops (parallel
 * with a bound, sequential, aggregated results, a non-list), cycles with `set`
 * (and the runaway limit), retry rules (retry with backoff, continue, jump,
 * fail), all replayable from the event log.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXPRESSIONS } from '../../common/expressions.ts';
import { DEFAULT_LIMITS, replay } from '../../services/orchestrator/index.ts';
import { Harness, netOf } from '../helpers/engine-harness.ts';

describe('loops', () => {
  const loopNet = (mode: string) =>
    netOf(
      `  - step: each
    loop: { in: "{{ workload.regions }}", iterator: region, mode: ${mode}, max_in_flight: 2 }
    tool: { kind: noop, result: "{{ region }}" }
    next: [{ step: after }]
  - step: after
`,
      'workload: { regions: [eu, us, apac, latam, mena] }\n',
    );

  it('runs a parallel loop with at most max_in_flight items at once and aggregates results in item order', () => {
    const h = new Harness(loopNet('parallel'), { regions: ['eu', 'us', 'apac', 'latam', 'mena'] });
    const first = h.settle();
    assert.deepEqual(first[0], { type: 'loop', step: 'each', run: 1, items: ['eu', 'us', 'apac', 'latam', 'mena'] });
    assert.deepEqual(h.itemsInFlight('each'), [0, 1]);
    h.complete('each', 'US', { iteration: 1 });
    h.settle();
    assert.deepEqual(h.itemsInFlight('each'), [0, 2], 'one finished, one more started');
    for (const i of [0, 2]) h.complete('each', String(i), { iteration: i });
    h.settle();
    assert.deepEqual(h.itemsInFlight('each'), [3, 4]);
    h.complete('each', 'MENA', { iteration: 4 });
    h.complete('each', 'LATAM', { iteration: 3 });
    assert.deepEqual(h.settle().map((d) => d.type === 'dispatch' && d.step), ['after']);
    assert.deepEqual(h.state.results.each, { kind: 'list', items: ['0', 'US', '2', 'LATAM', 'MENA'].map((value) => ({ kind: 'value', value })) });
    h.complete('after');
    assert.deepEqual(h.settle(), [{ type: 'complete' }]);
    assert.deepEqual(replay(h.net, h.log, EXPRESSIONS), h.state);
  });

  it('runs a sequential loop one item at a time', () => {
    const h = new Harness(loopNet('sequential'), { regions: ['eu', 'us', 'apac'] });
    h.settle();
    for (const i of [0, 1, 2]) {
      assert.deepEqual(h.itemsInFlight('each'), [i]);
      h.complete('each', i, { iteration: i });
      h.settle();
    }
    assert.equal(h.state.steps.each!.status, 'completed');
  });

  it('the execution limit bounds loop items too', () => {
    const h = new Harness(loopNet('parallel'), { regions: ['a', 'b', 'c'] });
    h.settle({ ...DEFAULT_LIMITS, maxInFlight: 1 });
    assert.deepEqual(h.itemsInFlight('each'), [0]);
  });

  it('an empty list completes the loop at once with no results', () => {
    const h = new Harness(loopNet('parallel'), { regions: [] });
    assert.deepEqual(h.settle().map((d) => d.type), ['loop', 'dispatch']);
    assert.deepEqual(h.state.results.each, { kind: 'list', items: [] });
  });

  it('fails with E_PLAYBOOK_LOOP_NOT_LIST when the items turn out not to be a list', () => {
    const h = new Harness(loopNet('parallel'), { regions: 'eu' });
    const d = h.settle();
    assert.equal(d.at(-1)!.type, 'fail');
    assert.equal(h.state.error!.code, 'E_PLAYBOOK_LOOP_NOT_LIST');
  });

  it('an item that fails for good fails the step after the other items settle', () => {
    const h = new Harness(loopNet('parallel'), { regions: ['a', 'b'] });
    h.settle();
    h.fail('each', 1, new Date(0).toISOString(), false, { iteration: 0 });
    assert.deepEqual(h.settle(), [], 'item 1 is still running');
    h.complete('each', 'b', { iteration: 1 });
    assert.equal(h.settle()[0]!.type, 'fail');
    assert.match(h.state.error!.message, /step "each" failed on item 0/);
  });

  it('retries an item by itself, with the rule of the step', () => {
    const net = netOf(
      `  - step: each
    loop: { in: [1, 2] }
    retry: [{ when: "{{ error.retryable }}", then: retry, attempts: 2, backoff: fixed, delay: 1s }]
`,
    );
    const h = new Harness(net);
    h.settle();
    h.fail('each', 1, '2026-01-01T00:00:00.000Z', true, { iteration: 1 });
    assert.deepEqual(h.settle(), [{ type: 'dispatch', step: 'each', attempt: 2, run: 1, iteration: 1, notBefore: '2026-01-01T00:00:01.000Z' }]);
    h.complete('each', 'x', { iteration: 0 });
    h.complete('each', 'y', { iteration: 1, attempt: 2 });
    assert.deepEqual(h.settle(), [{ type: 'complete' }]);
  });
});

/** init → body ⇄ check (round `passes` times) → done; body also feeds notify, outside the cycle, on every pass (`notifyArc` adds to that arc). */
function passesThenDone(passes: number, notifyArc: string) {
  return netOf(`  - step: init
    next: [{ step: body, set: { n: 1 } }]
  - step: body
    next: [{ step: check }, { step: notify${notifyArc} }]
  - step: check
    next:
      mode: exclusive
      arcs:
        - { step: body, when: "{{ vars.n < ${passes} }}", set: { n: "{{ vars.n + 1 }}" } }
        - { step: done }
  - step: notify
  - step: done
`);
}

describe('cycles and set', () => {
  const poll = netOf(
    `  - step: init
    next: [{ step: poll, set: { page: 1 } }]
  - step: poll
    next:
      mode: exclusive
      arcs:
        - { step: poll, when: "{{ vars.page < 3 }}", set: { page: "{{ vars.page + 1 }}" } }
        - { step: done }
  - step: done
`,
  );

  it('goes round a poll loop while its guard holds, with vars set by the arcs, then leaves it', () => {
    const h = new Harness(poll);
    h.settle();
    h.complete('init');
    assert.deepEqual(h.settle(), [{ type: 'dispatch', step: 'poll', attempt: 1, run: 1 }]);
    assert.equal(h.state.vars.page, 1);
    h.complete('poll');
    assert.deepEqual(h.settle(), [{ type: 'dispatch', step: 'poll', attempt: 1, run: 2 }], 'the back arc fires poll again; done waits');
    assert.equal(h.state.vars.page, 2);
    h.complete('poll', null, { run: 2 });
    assert.deepEqual(h.settle(), [{ type: 'dispatch', step: 'poll', attempt: 1, run: 3 }]);
    h.complete('poll', null, { run: 2 });
    assert.deepEqual(h.settle(), [], 'an outcome of an earlier run is ignored');
    h.complete('poll', null, { run: 3 });
    assert.deepEqual(h.settle(), [{ type: 'dispatch', step: 'done', attempt: 1, run: 1 }]);
    h.complete('done');
    assert.deepEqual(h.settle(), [{ type: 'complete' }]);
    assert.deepEqual(replay(poll, h.log, EXPRESSIONS), h.state);
  });

  it('a step fed once per pass of a cycle runs once per pass, even when held back until several passes are done', () => {
    const net = passesThenDone(2, '');
    const h = new Harness(net);
    const one = { ...DEFAULT_LIMITS, maxInFlight: 1 };
    h.settle(one);
    h.complete('init');
    assert.deepEqual(h.settle(one), [{ type: 'dispatch', step: 'body', attempt: 1, run: 1 }]);
    h.complete('body');
    // One slot: check goes first (playbook order); notify's token waits.
    assert.deepEqual(h.settle(one), [{ type: 'dispatch', step: 'check', attempt: 1, run: 1 }]);
    h.complete('check');
    assert.deepEqual(h.settle(one), [{ type: 'dispatch', step: 'body', attempt: 1, run: 2 }]);
    h.complete('body', null, { run: 2 });
    // Two passes, two tokens for notify: neither may be lost.
    assert.deepEqual(h.settle(one), [{ type: 'dispatch', step: 'check', attempt: 1, run: 2 }]);
    h.complete('check', null, { run: 2 });
    assert.deepEqual(h.settle(one), [{ type: 'dispatch', step: 'notify', attempt: 1, run: 1 }]);
    h.complete('notify');
    assert.deepEqual(h.settle(one), [{ type: 'dispatch', step: 'notify', attempt: 1, run: 2 }]);
    h.complete('notify', null, { run: 2 });
    assert.deepEqual(h.settle(one), [{ type: 'dispatch', step: 'done', attempt: 1, run: 1 }]);
    h.complete('done');
    assert.deepEqual(h.settle(one), [{ type: 'complete' }]);
    assert.deepEqual(replay(net, h.log, EXPRESSIONS), h.state);
  });

  it('a step skipped on every pass of a cycle is skipped once per pass, each skip an event of its own', () => {
    const net = passesThenDone(3, ', when: "{{ vars.n > 5 }}"');
    const h = new Harness(net);
    h.settle();
    h.complete('init');
    for (let run = 1; run <= 3; run++) {
      h.settle();
      h.complete('body', null, { run });
      const skip = h.settle().find((d) => d.type === 'skip');
      assert.deepEqual(skip, { type: 'skip', step: 'notify', ...(run > 1 ? { nth: run } : {}) });
      h.complete('check', null, { run });
    }
    assert.deepEqual(h.settle(), [{ type: 'dispatch', step: 'done', attempt: 1, run: 1 }]);
    h.complete('done');
    assert.deepEqual(h.settle(), [{ type: 'complete' }]);
    assert.equal(h.log.filter((e) => e.type === 'step.skipped').length, 3);
  });

  it('stops a cycle that never exits at the run limit with E_CYCLE_LIMIT', () => {
    const forever = netOf(`  - step: a
    next: { mode: exclusive, arcs: [{ step: a, when: "{{ workload.go == workload.go }}" }, { step: b }] }
  - step: b
`);
    const h = new Harness(forever);
    const limits = { ...DEFAULT_LIMITS, maxRuns: 5 };
    h.settle(limits);
    for (let run = 1; run <= 5; run++) {
      h.complete('a', null, { run });
      h.settle(limits);
    }
    assert.equal(h.state.status, 'failed');
    assert.equal(h.state.error!.code, 'E_CYCLE_LIMIT');
  });
});

describe('retry rules', () => {
  const rules = netOf(
    `  - step: fetch
    retry:
      - { when: "{{ error.code == 'E_HTTP_STATUS' }}", then: fail }
      - { when: "{{ error.code == 'E_TOOL_SQL' }}", then: jump, step: fallback }
      - { when: "{{ error.code == 'E_ARTIFACT_NOT_FOUND' }}", then: continue }
      - { then: retry, attempts: 3, backoff: linear, delay: 2s }
    next: [{ step: use }]
  - step: fallback
    next: [{ step: use }]
  - step: use
`,
  );
  const t0 = '2026-01-01T00:00:00.000Z';

  it('the first matching rule retries, with its own backoff', () => {
    const h = new Harness(rules);
    h.settle();
    h.fail('fetch', 1, t0, true, { code: 'E_TOOL_FAILED' });
    assert.deepEqual(h.settle(), [{ type: 'dispatch', step: 'fetch', attempt: 2, run: 1, notBefore: '2026-01-01T00:00:02.000Z' }]);
    h.fail('fetch', 2, t0, false, { code: 'E_TOOL_FAILED' });
    assert.deepEqual(h.settle(), [{ type: 'dispatch', step: 'fetch', attempt: 3, run: 1, notBefore: '2026-01-01T00:00:04.000Z' }], 'a rule without when matches any error, retryable or not');
    h.fail('fetch', 3, t0, true, { code: 'E_TOOL_FAILED' });
    assert.equal(h.settle()[0]!.type, 'fail', 'attempts used up');
    assert.match(h.state.error!.message, /attempt 3/);
  });

  it('fail stops at once', () => {
    const h = new Harness(rules);
    h.settle();
    h.fail('fetch', 1, t0, true, { code: 'E_HTTP_STATUS' });
    assert.equal(h.settle()[0]!.type, 'fail');
  });

  it('jump goes to the named step; the normal arcs get skips, so the join still resolves', () => {
    const h = new Harness(rules);
    h.settle();
    h.fail('fetch', 1, t0, false, { code: 'E_TOOL_SQL' });
    assert.deepEqual(h.settle(), [{ type: 'dispatch', step: 'fallback', attempt: 1, run: 1 }]);
    assert.deepEqual(h.state.results.fetch, { kind: 'value', value: { error: { code: 'E_TOOL_SQL', message: 'boom' } } });
    h.complete('fallback');
    assert.deepEqual(h.settle(), [{ type: 'dispatch', step: 'use', attempt: 1, run: 1 }]);
  });

  it('on success the jump arc carries a skip: the fallback is skipped and the join fires', () => {
    const h = new Harness(rules);
    h.settle();
    h.complete('fetch');
    assert.deepEqual(h.settle(), [{ type: 'skip', step: 'fallback' }, { type: 'dispatch', step: 'use', attempt: 1, run: 1 }]);
  });

  it('continue carries on as if the step had succeeded, with the error as its result', () => {
    const h = new Harness(rules);
    h.settle();
    h.fail('fetch', 1, t0, false, { code: 'E_ARTIFACT_NOT_FOUND' });
    assert.deepEqual(h.settle(), [{ type: 'skip', step: 'fallback' }, { type: 'dispatch', step: 'use', attempt: 1, run: 1 }]);
    assert.equal(h.state.steps.fetch!.status, 'completed');
  });
});
