/**
 * Playbooks that call each other as sub-playbooks in a circle (a → b → a)
 * would start child executions without end. Found across every playbook of
 * the domains folder: each call that closes such a circle.
 */
import { PLAYBOOK_TOOL, type Playbook, type Step } from './model.ts';
import { cycles, type Successors } from './step-graph.ts';

export interface SubPlaybookCycle {
  playbook: Playbook;
  step: Step;
  /** The playbooks of the circle, sorted. */
  circle: string[];
}

export function subPlaybookCycles(playbooks: readonly Playbook[]): SubPlaybookCycle[] {
  const calls = (p: Playbook): { step: Step; target: string }[] => p.steps.flatMap((s) => (s.tool.kind === PLAYBOOK_TOOL ? [{ step: s, target: String(s.tool.path) }] : []));
  const graph: Successors = new Map(playbooks.map((p) => [p.ref, [...new Set(calls(p).map((c) => c.target))]]));
  const out: SubPlaybookCycle[] = [];
  for (const circle of cycles(graph)) {
    const members = new Set(circle);
    for (const p of playbooks) {
      if (!members.has(p.ref)) continue;
      for (const c of calls(p)) if (members.has(c.target)) out.push({ playbook: p, step: c.step, circle: [...circle].sort() });
    }
  }
  return out;
}
