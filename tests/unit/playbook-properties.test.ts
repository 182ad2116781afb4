/**
 * Property-based tests (fast-check) of the parser, the checker and the engine:
 *   - any YAML document, however malformed, gets diagnostics, never a crash;
 *   - any playbook the checker accepts, driven by workers that succeed or fail
 *     at random, ends (completed, or failed with a catalogued code): it never
 *     hangs with nothing in flight.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ERROR_CATALOGUE } from '../../common/errors.ts';
import { compileNet, DEFAULT_LIMITS, parsePlaybook } from '../../services/orchestrator/index.ts';
import { Harness } from '../helpers/engine-harness.ts';

const ctx = { toolKinds: new Set(['noop', 'duckdb']), products: new Set(['shop.orders']), playbooks: new Set(['shop/other']) };

const name = fc.constantFrom('a', 'b', 'c', 'load', 'join', 'done', 'x_1');
const guard = fc.constantFrom(undefined, true, false, '{{ workload.flag }}', '{{ not workload.flag }}', '{{ workload.n > 2 }}', 'workload.n < 2', '{{ workload.missing }}', '{{ 1 + }}');
const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null));

/** Documents shaped roughly like playbooks, with every field sometimes wrong. */
const roughPlaybook = fc.record(
  {
    apiVersion: fc.constantFrom('noetl.io/v2', 'v1', 3),
    kind: fc.constantFrom('Playbook', 'Job'),
    metadata: fc.record({ name: fc.oneof(name, scalar) }, { requiredKeys: [] }),
    workload: fc.dictionary(name, scalar, { maxKeys: 3 }),
    workflow: fc.array(
      fc.record(
        {
          step: fc.oneof(name, scalar),
          tool: fc.oneof(fc.record({ kind: fc.constantFrom('noop', 'duckdb', 'playbook', 'workbook', 'nope') }), fc.array(fc.record({ kind: fc.constantFrom('noop', 'tasks') }), { maxLength: 2 }), scalar),
          next: fc.oneof(fc.array(fc.record({ step: fc.oneof(name, scalar), when: guard }, { requiredKeys: ['step'] }), { maxLength: 3 }), fc.record({ mode: fc.constantFrom('exclusive', 'inclusive', 'both'), arcs: fc.array(fc.record({ step: name }), { maxLength: 2 }) }), scalar),
          loop: fc.oneof(fc.record({ in: fc.oneof(fc.array(scalar, { maxLength: 3 }), fc.constantFrom('{{ workload.items }}', 'eu', '{{ results.a }}')) }), scalar),
          retry: fc.oneof(fc.record({ max_attempts: fc.integer({ min: -1, max: 4 }) }), fc.array(fc.record({ then: fc.constantFrom('retry', 'jump', 'continue', 'fail', 'explode'), step: name }), { maxLength: 2 }), scalar),
          produces: fc.constantFrom('shop.orders', 'shop.nope', 'bad'),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 5 },
    ),
  },
  { requiredKeys: [] },
);

describe('property: the parser and checker never crash', () => {
  it('returns positioned, coded diagnostics for any document', () => {
    fc.assert(
      fc.property(fc.oneof(roughPlaybook.map((d) => stringify(d)), fc.string({ maxLength: 200 })), (text) => {
        const r = parsePlaybook(text, 'p.yaml', 'shop', ctx);
        for (const d of r.diagnostics) {
          assert.ok(d.code in ERROR_CATALOGUE, d.code);
          assert.ok(d.line >= 1 && d.col >= 1, `${d.code} has a position`);
        }
        assert.equal(r.playbook === undefined, r.diagnostics.some((d) => d.severity === 'error'));
      }),
      { numRuns: 400 },
    );
  });
});

/** Playbooks that are well-formed but whose graph, guards, loops and retry rules are random. */
const steps = ['s0', 's1', 's2', 's3', 's4', 's5'];
const wellFormed = fc.integer({ min: 1, max: steps.length }).chain((n) =>
  fc.record({
    flag: fc.boolean(),
    steps: fc.tuple(
      ...steps.slice(0, n).map((_, i) =>
        fc.record({
          arcs: fc.array(fc.record({ to: fc.integer({ min: 0, max: n - 1 }), when: fc.constantFrom(undefined, '{{ workload.flag }}', '{{ not workload.flag }}', '{{ vars.k < 2 }}', true) }), { maxLength: 3 }),
          exclusive: fc.boolean(),
          loop: fc.option(fc.array(fc.integer(), { maxLength: 3 }), { nil: undefined }),
          retry: fc.constantFrom('none', 'retry', 'continue', 'jump'),
          index: fc.constant(i),
        }),
      ),
    ),
  }),
);

/** Each step but the last goes on to the next one (so most playbooks pass the checks), plus random extra arcs, some back into cycles. */
function toYaml(p: { flag: boolean; steps: { arcs: { to: number; when: string | boolean | undefined }[]; exclusive: boolean; loop: number[] | undefined; retry: string; index: number }[] }): string {
  const last = p.steps.length - 1;
  const workflow = p.steps.map((s) => {
    const extra = s.arcs.map((a) => ({ step: steps[a.to]!, ...(a.when !== undefined ? { when: a.when } : {}) }));
    const onward = s.index < last ? [{ step: steps[s.index + 1]! }] : [];
    // An exclusive router takes its guarded extras first and goes on by default.
    const arcs = s.exclusive && s.index < last ? [...extra.filter((a) => 'when' in a), ...onward] : [...onward, ...extra];
    const withSet = arcs.map((a, j) => (j === 0 ? { ...a, set: { k: '{{ (vars.k or 0) + 1 }}' } } : a));
    const retry = s.retry === 'retry' ? [{ then: 'retry', attempts: 2, delay: '1ms' }] : s.retry === 'continue' ? [{ then: 'continue' }] : s.retry === 'jump' && !s.loop ? [{ then: 'jump', step: steps[last] }] : undefined;
    return {
      step: steps[s.index],
      tool: { kind: 'noop' },
      ...(withSet.length > 0 ? { next: s.exclusive && s.index < last ? { mode: 'exclusive', arcs: withSet } : withSet } : {}),
      ...(s.loop ? { loop: { in: s.loop } } : {}),
      ...(retry ? { retry } : {}),
    };
  });
  return stringify({ apiVersion: 'noetl.io/v2', kind: 'Playbook', metadata: { name: 'random' }, workload: { flag: p.flag }, workflow });
}

describe('property: an accepted playbook always ends', () => {
  it('completes or fails with a catalogued code, whatever the workers do, and never hangs', () => {
    let accepted = 0;
    fc.assert(
      fc.property(wellFormed, fc.array(fc.nat(), { minLength: 50, maxLength: 50 }), (p, dice) => {
        const r = parsePlaybook(toYaml(p), 'random.yaml', 'shop', ctx);
        if (!r.playbook) return;
        accepted++;
        const h = new Harness(compileNet(r.playbook), { flag: p.flag });
        const limits = { ...DEFAULT_LIMITS, maxRuns: 10 };
        for (let turn = 0; turn < 2000 && h.state.status === 'running'; turn++) {
          h.settle(limits);
          // The index decide relies on: exactly the steps in flight, retrying, or looping.
          const busy = Object.entries(h.state.steps).filter(([, st]) => ['dispatched', 'running', 'retrying'].includes(st.status)).map(([n]) => n);
          assert.deepEqual([...h.state.active].sort(), busy.sort(), 'state.active');
          // And each loop's counts, against its items.
          for (const st of Object.values(h.state.steps)) {
            if (!st.loop) continue;
            const its = st.loop.iterations;
            const where = (f: (status: string) => boolean): number[] => its.flatMap((it, i) => (f(it.status) ? [i] : []));
            assert.deepEqual([...st.loop.inFlight].sort((a, b) => a - b), where((x) => x === 'dispatched' || x === 'running'), 'loop.inFlight');
            assert.deepEqual([...st.loop.retrying].sort((a, b) => a - b), where((x) => x === 'retrying'), 'loop.retrying');
            assert.equal(st.loop.completed, where((x) => x === 'completed').length, 'loop.completed');
            assert.deepEqual(where((x) => x === 'waiting'), its.slice(st.loop.next).map((_, k) => st.loop!.next + k), 'loop.next: the waiting items are exactly those from it on');
          }
          if (h.state.status !== 'running') break;
          const flying = Object.entries(h.state.steps).flatMap(([step, st]): { step: string; run: number; iteration: number | undefined; attempt: number }[] =>
            st.loop && st.status === 'running' ? h.itemsInFlight(step).map((iteration) => ({ step, run: st.run, iteration, attempt: st.loop!.iterations[iteration]!.attempt })) : st.status === 'dispatched' ? [{ step, run: st.run, iteration: undefined, attempt: st.attempt }] : [],
          );
          assert.ok(flying.length > 0, `running with nothing in flight: ${JSON.stringify(h.state)}`);
          const roll = dice[turn % dice.length]! + turn;
          const pick = flying[roll % flying.length]!;
          const unit = { attempt: pick.attempt, run: pick.run, iteration: pick.iteration };
          if (roll % 4 === 0) h.fail(pick.step, pick.attempt, new Date(0).toISOString(), roll % 8 === 0, unit);
          else h.complete(pick.step, null, unit);
        }
        assert.notEqual(h.state.status, 'running', 'the execution ended');
        if (h.state.status === 'failed') {
          assert.ok(h.state.error!.code in ERROR_CATALOGUE, h.state.error!.code);
          // E_INTERNAL is the engine finding a join that waits forever: the checker should have refused the playbook.
          assert.notEqual(h.state.error!.code, 'E_INTERNAL', `${h.state.error!.message}\n${toYaml(p)}`);
        }
      }),
      { numRuns: 300 },
    );
    assert.ok(accepted > 50, `enough random playbooks were accepted to mean something (${accepted})`);
  });
});
