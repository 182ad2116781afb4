/**
 * The join-deadlock check prunes its walks (by topological rank, by stopping
 * once every input is found, by walking once for arcs of inclusive steps into
 * the same step). On random step graphs it must report exactly what the plain
 * walk per (cycle-closing arc, join) reported, with the same words; and a
 * fan-out of 20,000 branches that each jump back to the start (20,000 such
 * arcs, one join) is checked with one walk instead of 20,000.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { PathSegment } from '../../common/yaml-source.ts';
import type { Playbook, Step } from '../../services/orchestrator/dsl/model.ts';
import { checkSoundness } from '../../services/orchestrator/dsl/soundness.ts';
import { backEdges, edgeKey, successors, type Successors } from '../../services/orchestrator/dsl/step-graph.ts';
import { parsePlaybook } from '../../services/orchestrator/index.ts';

const BACKOFF = { backoff: 'fixed' as const, delayMs: 0, maxDelayMs: 0, jitter: 0 };

/** A playbook model from, per step, its mode, its next steps and the steps its retry rules jump to. */
function playbook(steps: { exclusive: boolean; next: number[]; jumps: number[] }[]): Playbook {
  const name = (i: number): string => `n${i}`;
  return {
    ref: 'd/p', domain: 'd', name: 'p', description: undefined, tags: [], workload: {}, workloadSchema: undefined, keychain: [], file: 'p.yaml',
    steps: steps.map((s, i): Step => {
      const path: PathSegment[] = ['workflow', i];
      return {
        name: name(i), desc: undefined, tool: { kind: 'noop' }, mode: s.exclusive ? 'exclusive' : 'inclusive', produces: undefined, consumes: [], loop: undefined, timeoutMs: undefined, resources: [], path,
        next: [...new Set(s.next)].map((t, j) => ({ step: name(t), when: s.exclusive && j === 0 ? '{{ workload.again }}' : undefined, set: undefined, path: [...path, 'next', j] })),
        retry: s.jumps.map((t, j) => ({ ...BACKOFF, when: undefined, then: 'jump', attempts: 1, step: name(t), path: [...path, 'retry', j] })),
      };
    }),
  };
}

const graphs = fc.integer({ min: 2, max: 14 }).chain((size) =>
  fc.array(fc.record({ exclusive: fc.boolean(), next: fc.array(fc.nat(size - 1), { maxLength: 3 }), jumps: fc.array(fc.nat(size - 1), { maxLength: 1 }) }), { minLength: size, maxLength: size }),
);

describe('join deadlock check', () => {
  it('reports on random step graphs exactly what the walk per arc and join reported', () => {
    fc.assert(
      fc.property(graphs, (steps) => {
        const p = playbook(steps);
        const found: string[] = [];
        checkSoundness(p, (code, path, message) => {
          if (code === 'E_PLAYBOOK_JOIN_DEADLOCK') found.push(`${String(path[1])}: ${message}`);
        });
        assert.deepEqual(found, referenceDeadlocks(p));
      }),
      { numRuns: 3000 },
    );
  });

  it('checks a fan-out of 20,000 branches that each jump back to the start, joined after them', (t) => {
    const branches = 20_000;
    const lines = ['apiVersion: noetl.io/v2', 'kind: Playbook', 'metadata: { name: jumps }', 'workflow:'];
    lines.push(`  - { step: s0, next: [${Array.from({ length: branches }, (_, i) => `{ step: b${i} }`).join(', ')}] }`);
    for (let i = 0; i < branches; i++) lines.push(`  - { step: b${i}, retry: [{ then: jump, step: s0 }], next: [{ step: join }] }`);
    lines.push('  - { step: join }');
    const started = process.hrtime.bigint();
    const result = parsePlaybook(`${lines.join('\n')}\n`, 'jumps.yaml', 'ops', { toolKinds: new Set(['noop']), products: new Set() });
    t.diagnostic(`checked in ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(0)} ms`);
    assert.deepEqual(result.diagnostics, []);
  });
});

/** Names quoted, a long list shortened to its first five and how many more (as the message words it). */
function listed(names: readonly string[]): string {
  const shown = names.slice(0, 5).map((n) => `"${n}"`).join(', ');
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

/** The check as it was before its walks were pruned: one full walk per (cycle-closing arc, join). */
function referenceDeadlocks(p: Playbook): string[] {
  const succ: Successors = successors(p);
  const back = backEdges(p.steps[0]!.name, succ);
  const byName = new Map(p.steps.map((s) => [s.name, s]));
  const preds = new Map<string, string[]>();
  for (const [from, tos] of succ) for (const to of tos) if (!back.has(edgeKey(from, to))) preds.set(to, [...(preds.get(to) ?? []), from]);
  const joins = p.steps.filter((s) => (preds.get(s.name) ?? []).length >= 2);
  const out: string[] = [];
  if (joins.length === 0 || back.size === 0) return out;
  const reported = new Set<string>();
  for (const edge of back) {
    const [u, v] = edge.split('->') as [string, string];
    const holdsBack = byName.get(u)?.mode === 'exclusive';
    for (const join of joins) {
      if (reported.has(join.name)) continue;
      const again = new Set<string>();
      const stack = [v];
      while (stack.length > 0) {
        const n = stack.pop()!;
        if (n === join.name || again.has(n)) continue;
        again.add(n);
        if (n === u && holdsBack) continue;
        for (const m of succ.get(n) ?? []) if (!back.has(edgeKey(n, m))) stack.push(m);
      }
      const inputs = preds.get(join.name)!;
      const rerun = inputs.filter((i) => again.has(i) && !(i === u && holdsBack));
      if (rerun.length === 0 || rerun.length === inputs.length) continue;
      const once = inputs.filter((i) => !rerun.includes(i));
      reported.add(join.name);
      out.push(`${String(join.path[1])}: join "${join.name}" can deadlock: going round the cycle ${u} → ${v} runs its input${rerun.length > 1 ? 's' : ''} ${listed(rerun)} again but not ${listed(once)}, so the second time it waits forever; join the branches inside the cycle, or leave the cycle from one step (an exclusive router) before the join`);
    }
  }
  return out;
}
