/**
 * Soundness of the net a playbook compiles to, proved on its step graph:
 *   - every step is reachable from the start;
 *   - every cycle has an arc leaving it (a retry or poll loop that can end);
 *   - every step has a path to an end (a step with no next);
 *   - every join resolves: with dead-path elimination a join gets exactly one
 *     token per input, unless an input comes from a step that runs again and
 *     again in a cycle without the join while the others run once;
 *   - an exclusive router has a default arc (no `when`, or `when: true`), so
 *     its arcs cannot all be false.
 */
import type { Report } from './check-playbook.ts';
import type { Playbook } from './model.ts';
import { backEdges, cycles, edgeKey, reachableFrom, successors } from './step-graph.ts';

export function checkSoundness(p: Playbook, report: Report): void {
  const succ = successors(p);
  const start = p.steps[0]!.name;
  const reachable = reachableFrom([start], succ);
  for (const s of p.steps) {
    if (!reachable.has(s.name)) report('E_PLAYBOOK_UNREACHABLE_STEP', [...s.path, 'step'], `step "${s.name}" cannot be reached from "${start}"`);
  }

  const loops = cycles(succ);
  const inCycle = new Map<string, Set<string>>();
  const trapped = new Set<string>();
  for (const c of loops) {
    const members = new Set(c);
    for (const n of c) inCycle.set(n, members);
    const exits = c.some((n) => (succ.get(n) ?? []).some((m) => !members.has(m)));
    if (!exits) {
      const first = p.steps.find((s) => members.has(s.name))!;
      const names = p.steps.filter((s) => members.has(s.name)).map((s) => `"${s.name}"`);
      report('E_PLAYBOOK_CYCLE_NO_EXIT', [...first.path, 'step'], `steps ${names.join(' → ')} form a cycle with no arc leaving it: the execution could never end; add an arc out of the cycle`);
      for (const n of c) trapped.add(n);
    }
  }

  const ends = p.steps.filter((s) => (succ.get(s.name) ?? []).length === 0).map((s) => s.name);
  const canEnd = reverseReachable(ends, succ);
  for (const s of p.steps) {
    if (!canEnd.has(s.name) && !trapped.has(s.name) && reachable.has(s.name)) {
      report('E_PLAYBOOK_NO_PATH_TO_END', [...s.path, 'step'], `step "${s.name}" has no path to an end: every way on leads into a cycle that never exits`);
    }
  }

  const back = backEdges(start, succ);
  const predecessors = new Map<string, string[]>();
  for (const [from, tos] of succ) for (const to of tos) if (!back.has(edgeKey(from, to))) push(predecessors, to, from);
  for (const s of p.steps) {
    const preds = predecessors.get(s.name) ?? [];
    if (preds.length < 2) continue;
    for (const from of preds) {
      const cycle = inCycle.get(from);
      if (!cycle || cycle.has(s.name)) continue;
      // A router that closes its cycle holds back its other arcs until it leaves it; any other step of the cycle sends a token each pass.
      const closesCycle = (succ.get(from) ?? []).some((m) => back.has(edgeKey(from, m)));
      if (!closesCycle) {
        report('E_PLAYBOOK_JOIN_DEADLOCK', [...s.path, 'step'], `join "${s.name}" can deadlock: its input from "${from}" gets a token on every pass of a cycle that "${s.name}" is not in, while its other inputs get one; route to "${s.name}" from the step that leaves the cycle`);
      }
    }
  }

  for (const s of p.steps) {
    if (s.mode !== 'exclusive' || s.next.length === 0) continue;
    if (s.next.some((a) => a.when === undefined || a.when === true)) continue;
    report('E_PLAYBOOK_NO_DEFAULT_ARC', [...s.path, 'next'], `exclusive router "${s.name}" has a when on every arc, so all can be false and nothing would run next; add a last arc without \`when\` (the default)`);
  }
}

function reverseReachable(targets: readonly string[], succ: Map<string, string[]>): Set<string> {
  const preds = new Map<string, string[]>();
  for (const [from, tos] of succ) for (const to of tos) push(preds, to, from);
  const seen = new Set<string>();
  const stack = [...targets];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push(...(preds.get(n) ?? []));
  }
  return seen;
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
