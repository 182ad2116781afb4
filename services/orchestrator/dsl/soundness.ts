/**
 * Soundness of the net a playbook compiles to, proved on its step graph:
 *   - every step is reachable from the start;
 *   - every cycle can end: one of its steps can route without going round
 *     again (a retry or poll loop whose guard becomes false);
 *   - every step has a path to an end (a step with no next);
 *   - a step that closes a cycle and also goes on routes exclusively: it goes
 *     round, or it leaves (inclusively it would send tokens onward every pass);
 *   - every join resolves: with dead-path elimination a join gets exactly one
 *     token per input, unless a cycle runs some of its inputs again and not
 *     the others (see checkJoins);
 *   - an exclusive router has a default arc (no `when`, or `when: true`), so
 *     its arcs cannot all be false.
 */
import type { Report } from './check-playbook.ts';
import type { Arc, Playbook, Step } from './model.ts';
import { backEdges, cycles, edgeKey, predecessors, reachableFrom, successors, type Successors } from './step-graph.ts';

export function checkSoundness(p: Playbook, report: Report): void {
  const succ = successors(p);
  const start = p.steps[0]!.name;
  const reachable = reachableFrom([start], succ);
  for (const s of p.steps) {
    if (!reachable.has(s.name)) report('E_PLAYBOOK_UNREACHABLE_STEP', [...s.path, 'step'], `step "${s.name}" cannot be reached from "${start}"`);
  }

  const trapped = new Set<string>();
  for (const steps of stepsOfCycles(p, cycles(succ))) {
    const members = new Set(steps.map((s) => s.name));
    if (steps.some((s) => canStopGoingRound(s, members))) continue;
    const names = steps.map((s) => `"${s.name}"`);
    report('E_PLAYBOOK_CYCLE_NO_EXIT', [...steps[0]!.path, 'step'], `steps ${names.join(' → ')} form a cycle that none of them can leave: the execution could never end; give the arc going round a \`when\` that becomes false, with an arc out of the cycle`);
    for (const n of members) trapped.add(n);
  }

  // A path can end at a step none of whose arcs must be taken: no arcs, or a guard on every one.
  // (Arcs to undefined steps are reported on their own and left out here.)
  const ends = p.steps.filter((s) => s.next.every((a) => guarded(a) || !succ.has(a.step))).map((s) => s.name);
  const canEnd = reachableFrom(ends, predecessors(succ));
  for (const s of p.steps) {
    if (!canEnd.has(s.name) && !trapped.has(s.name) && reachable.has(s.name)) {
      report('E_PLAYBOOK_NO_PATH_TO_END', [...s.path, 'step'], `step "${s.name}" has no path to an end: every way on leads into a cycle that never exits`);
    }
  }

  const back = backEdges(start, succ);
  for (const s of p.steps) {
    const arcs = s.next.map((a) => back.has(edgeKey(s.name, a.step)));
    if (s.mode === 'inclusive' && arcs.includes(true) && arcs.includes(false)) {
      report('E_PLAYBOOK_CYCLE_NOT_EXCLUSIVE', [...s.path, 'next'], `step "${s.name}" goes round a cycle and also goes on, inclusively: it would send tokens onward on every pass; make it an exclusive router (\`next: {mode: exclusive, arcs: [...]}\`) that either goes round or leaves`);
    }
  }
  checkJoins(p, succ, back, report);

  for (const s of p.steps) {
    if (s.mode !== 'exclusive' || s.next.length === 0) continue;
    if (s.next.some((a) => a.when === undefined || a.when === true)) continue;
    report('E_PLAYBOOK_NO_DEFAULT_ARC', [...s.path, 'next'], `exclusive router "${s.name}" has a when on every arc, so all can be false and nothing would run next; add a last arc without \`when\` (the default)`);
  }
}

/**
 * A join deadlocks when a cycle runs some of its inputs again but not the
 * others: the second time round one input holds a token and the rest never
 * will. For each arc closing a cycle (u → v), the steps that run again are
 * those reached from v without passing the join, and without following the
 * other arcs of an exclusive u (which it holds back while it goes round). A
 * join must have all of its inputs among them, or none.
 *
 * Without back edges the graph is acyclic, so a walk from v never needs a step
 * ranked (topologically) after the join's last input; it stops once it has
 * found every input; and arcs of inclusive steps into the same v give the
 * same walk, done once. (Many cycles and many joins together still cost a
 * walk per pair.)
 */
function checkJoins(p: Playbook, succ: Successors, back: ReadonlySet<string>, report: Report): void {
  const byName = new Map(p.steps.map((s) => [s.name, s]));
  const preds = new Map<string, string[]>();
  for (const [from, tos] of succ) for (const to of tos) if (!back.has(edgeKey(from, to))) push(preds, to, from);
  const joins = p.steps.filter((s) => (preds.get(s.name) ?? []).length >= 2);
  if (joins.length === 0 || back.size === 0) return;
  const rank = forwardRanks(succ, back);
  const rankOf = (step: string): number => rank.get(step) ?? Number.POSITIVE_INFINITY;
  const reported = new Set<string>();
  const settled = new Set<string>();
  for (const edge of back) {
    const [u, v] = edge.split('->') as [string, string];
    const holdsBack = byName.get(u)?.mode === 'exclusive';
    for (const join of joins) {
      if (reported.has(join.name)) continue;
      const memo = holdsBack ? undefined : `${v}\u0000${join.name}`;
      if (memo !== undefined && settled.has(memo)) continue;
      const inputs = preds.get(join.name)!;
      const isInput = new Set(inputs);
      const last = inputs.reduce((most, i) => Math.max(most, rankOf(i)), Number.NEGATIVE_INFINITY);
      const again = new Set<string>();
      let found = 0;
      const stack = [v];
      while (stack.length > 0 && found < inputs.length) {
        const n = stack.pop()!;
        if (n === join.name || again.has(n) || rankOf(n) > last) continue;
        again.add(n);
        if (isInput.has(n)) found++;
        if (n === u && holdsBack) continue;
        for (const m of succ.get(n) ?? []) if (!back.has(edgeKey(n, m))) stack.push(m);
      }
      // An exclusive u sends its held-back arcs once, when it leaves the cycle.
      const rerun = inputs.filter((i) => again.has(i) && !(i === u && holdsBack));
      if (rerun.length === 0 || rerun.length === inputs.length) {
        if (memo !== undefined) settled.add(memo);
        continue;
      }
      const rerunSet = new Set(rerun);
      const once = inputs.filter((i) => !rerunSet.has(i));
      reported.add(join.name);
      report('E_PLAYBOOK_JOIN_DEADLOCK', [...join.path, 'step'], `join "${join.name}" can deadlock: going round the cycle ${u} → ${v} runs its input${rerun.length > 1 ? 's' : ''} ${listed(rerun)} again but not ${listed(once)}, so the second time it waits forever; join the branches inside the cycle, or leave the cycle from one step (an exclusive router) before the join`);
    }
  }
}

/** Step names quoted, the first five of a long list and how many more. */
function listed(names: readonly string[]): string {
  const shown = names.slice(0, 5).map((n) => `"${n}"`).join(', ');
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

/** Each step's place in a topological order of the graph without its back edges (Kahn); steps on cycles the walk from the start never met have none. */
function forwardRanks(succ: Successors, back: ReadonlySet<string>): Map<string, number> {
  const waiting = new Map<string, number>([...succ.keys()].map((k) => [k, 0]));
  for (const [from, tos] of succ) for (const to of tos) if (!back.has(edgeKey(from, to))) waiting.set(to, (waiting.get(to) ?? 0) + 1);
  const ready = [...waiting].filter(([, count]) => count === 0).map(([name]) => name);
  const rank = new Map<string, number>();
  while (ready.length > 0) {
    const n = ready.pop()!;
    rank.set(n, rank.size);
    for (const m of succ.get(n) ?? []) {
      if (back.has(edgeKey(n, m))) continue;
      const left = waiting.get(m)! - 1;
      waiting.set(m, left);
      if (left === 0) ready.push(m);
    }
  }
  return rank;
}

/** The steps of each cycle, in playbook order; one pass over the steps, however many cycles there are. */
function stepsOfCycles(p: Playbook, loops: readonly string[][]): Step[][] {
  const loopOf = new Map<string, number>();
  loops.forEach((members, i) => {
    for (const name of members) loopOf.set(name, i);
  });
  const out: Step[][] = loops.map(() => []);
  for (const s of p.steps) {
    const i = loopOf.get(s.name);
    if (i !== undefined) out[i]!.push(s);
  }
  return out;
}

const guarded = (a: Arc): boolean => a.when !== undefined && a.when !== true;

/**
 * Whether a step of a cycle can route without going round again. Inclusive:
 * only if every arc back into the cycle has a guard (that can be false).
 * Exclusive: only if an arc out of the cycle comes before the first unguarded
 * arc into it (arcs are tried in order and the first true one is taken).
 */
function canStopGoingRound(s: Step, members: ReadonlySet<string>): boolean {
  if (s.mode === 'inclusive') return s.next.every((a) => !members.has(a.step) || guarded(a));
  for (const a of s.next) {
    if (!members.has(a.step)) return true;
    if (!guarded(a)) return false;
  }
  return true;
}


function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
