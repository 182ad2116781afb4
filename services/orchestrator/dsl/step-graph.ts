/**
 * The steps of a playbook as a directed graph: an edge for every `next` arc and
 * every retry rule's `jump`. Pure graph algorithms the checker and the net
 * compiler share: back edges (what closes a cycle), strongly connected
 * components (the cycles themselves) and reachability.
 */
import type { Playbook } from './model.ts';

export type Successors = Map<string, string[]>;

export function successors(p: Playbook): Successors {
  const known = new Set(p.steps.map((s) => s.name));
  const out: Successors = new Map(p.steps.map((s) => [s.name, [] as string[]]));
  for (const s of p.steps) {
    const targets = [...s.next.map((a) => a.step), ...s.retry.flatMap((r) => (r.then === 'jump' && r.step !== undefined ? [r.step] : []))];
    const list = out.get(s.name)!;
    for (const t of targets) if (known.has(t) && !list.includes(t)) list.push(t);
  }
  return out;
}

export function edgeKey(from: string, to: string): string {
  return `${from}->${to}`;
}

/**
 * Edges that close a cycle, found by a depth-first walk from the start in
 * playbook order: an edge to a step still on the walk's stack. Removing them
 * leaves an acyclic graph, so every other input of a step is a forward one.
 */
export function backEdges(start: string, succ: Successors): Set<string> {
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

/** The same graph with every edge turned round. */
export function predecessors(succ: Successors): Successors {
  const out: Successors = new Map([...succ.keys()].map((k) => [k, [] as string[]]));
  for (const [from, tos] of succ) for (const to of tos) out.get(to)?.push(from);
  return out;
}

export function reachableFrom(starts: readonly string[], succ: Successors): Set<string> {
  const seen = new Set<string>();
  const stack = [...starts];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push(...(succ.get(n) ?? []));
  }
  return seen;
}

/** Strongly connected components (Tarjan); a step alone is a cycle only with an edge to itself. */
export function cycles(succ: Successors): string[][] {
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
