/**
 * The step-graph algorithms without recursion: on random graphs they give what
 * the recursive walks they replace gave (the same back edges and cycles, in
 * the same order, since the net compiler's semantics hang on them), "can X run
 * before Y" agrees with a plain search for every pair, and none of them
 * overflows the stack on a graph of 200,000 nodes, deep or wide.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { runsBefore } from '../../services/orchestrator/dsl/runs-before.ts';
import { backEdges, cycles, edgeKey, reachableFrom, stronglyConnected, type Successors } from '../../services/orchestrator/dsl/step-graph.ts';

/** Random directed graphs of up to 25 nodes, self-loops and cycles included. */
const graphs = fc.integer({ min: 1, max: 25 }).chain((size) =>
  fc.array(fc.tuple(fc.nat(size - 1), fc.nat(size - 1)), { maxLength: size * 3 }).map((edges) => {
    const succ: Successors = new Map(Array.from({ length: size }, (_, i) => [`n${i}`, [] as string[]]));
    for (const [from, to] of edges) {
      const list = succ.get(`n${from}`)!;
      if (!list.includes(`n${to}`)) list.push(`n${to}`);
    }
    return succ;
  }),
);

describe('step graph: iterative walks', () => {
  it('finds the back edges a recursive depth-first walk finds', () => {
    fc.assert(
      fc.property(graphs, (succ) => {
        assert.deepEqual([...backEdges('n0', succ)], [...recursiveBackEdges('n0', succ)]);
      }),
      { numRuns: 500 },
    );
  });

  it("finds the cycles recursive Tarjan finds, in the same order, and puts every node in one component", () => {
    fc.assert(
      fc.property(graphs, (succ) => {
        assert.deepEqual(cycles(succ), recursiveCycles(succ));
        const { members, of } = stronglyConnected(succ);
        assert.equal(members.flat().length, succ.size);
        for (const [i, component] of members.entries()) for (const node of component) assert.equal(of.get(node), i);
      }),
      { numRuns: 500 },
    );
  });

  it('says X can run before Y exactly when a path leads from X to Y (X to itself only round a cycle)', () => {
    fc.assert(
      fc.property(graphs, (succ) => {
        const before = runsBefore(succ);
        for (const from of succ.keys()) {
          const reached = reachableFrom(succ.get(from)!, succ);
          for (const to of succ.keys()) assert.equal(before(from, to), reached.has(to), `${from} → ${to}`);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('walks a chain and a fan-out of 200,000 nodes without overflowing the stack', () => {
    const size = 200_000;
    const chain: Successors = new Map(Array.from({ length: size }, (_, i) => [`n${i}`, i + 1 < size ? [`n${i + 1}`] : []]));
    assert.equal(backEdges('n0', chain).size, 0);
    assert.equal(cycles(chain).length, 0);
    assert.equal(reachableFrom(['n0'], chain).size, size);
    const before = runsBefore(chain);
    assert.equal(before('n0', `n${size - 1}`), true);
    assert.equal(before(`n${size - 1}`, 'n0'), false);
    assert.equal(before('n5', 'n5'), false);

    chain.set(`n${size - 1}`, ['n0']);
    assert.deepEqual([...backEdges('n0', chain)], [edgeKey(`n${size - 1}`, 'n0')]);
    assert.equal(cycles(chain)[0]!.length, size);
    assert.equal(runsBefore(chain)(`n${size - 1}`, 'n0'), true);

    const wide: Successors = new Map([['root', Array.from({ length: size }, (_, i) => `n${i}`)], ...Array.from({ length: size }, (_, i) => [`n${i}`, ['join']] as [string, string[]]), ['join', []]]);
    assert.equal(reachableFrom(['root'], wide).size, size + 2);
    assert.equal(backEdges('root', wide).size, 0);
    const wideBefore = runsBefore(wide);
    assert.equal(wideBefore(`n${size - 1}`, 'join'), true);
    assert.equal(wideBefore('n1', 'n2'), false);
  });
});

function recursiveBackEdges(start: string, succ: Successors): Set<string> {
  const back = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const visit = (n: string): void => {
    state.set(n, 'open');
    for (const m of succ.get(n) ?? []) {
      const st = state.get(m);
      if (st === 'open') back.add(edgeKey(n, m));
      else if (st === undefined) visit(m);
    }
    state.set(n, 'done');
  };
  visit(start);
  return back;
}

function recursiveCycles(succ: Successors): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  const connect = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of succ.get(v) ?? []) {
      if (!idx.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (succ.get(v) ?? []).includes(v)) out.push(component);
    }
  };
  for (const v of succ.keys()) if (!idx.has(v)) connect(v);
  return out;
}
