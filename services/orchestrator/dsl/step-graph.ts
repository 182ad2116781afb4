/**
 * The steps of a playbook as a directed graph: an edge for every `next` arc and
 * every retry rule's `jump`. Pure graph algorithms the checker and the net
 * compiler share: back edges (what closes a cycle), strongly connected
 * components (the cycles themselves) and reachability.
 *
 * Every walk keeps its own stack in an array, never the call stack: a playbook
 * is data a team writes, and a chain of 100,000 steps must be checked (and
 * compiled by the supervisor) as surely as one of ten.
 */
import type { Playbook } from './model.ts';

export type Successors = Map<string, string[]>;

export function successors(p: Playbook): Successors {
  const known = new Set(p.steps.map((s) => s.name));
  const out: Successors = new Map(p.steps.map((s) => [s.name, [] as string[]]));
  for (const s of p.steps) {
    const targets = [...s.next.map((a) => a.step), ...s.retry.flatMap((r) => (r.then === 'jump' && r.step !== undefined ? [r.step] : []))];
    const list = out.get(s.name)!;
    // A set beside the list: a router may have a hundred thousand arcs.
    const listed = new Set<string>();
    for (const target of targets) {
      if (!known.has(target) || listed.has(target)) continue;
      listed.add(target);
      list.push(target);
    }
  }
  return out;
}

export function edgeKey(from: string, to: string): string {
  return `${from}->${to}`;
}

/** A step on a walk's stack, with the index of the next successor to look at. */
interface Frame {
  node: string;
  next: number;
}

/**
 * Edges that close a cycle, found by a depth-first walk from the start in
 * playbook order: an edge to a step still on the walk's stack. Removing them
 * leaves an acyclic graph, so every other input of a step is a forward one.
 * (The walk visits in exactly the order a recursive one would, so the same
 * edges are back edges.)
 */
export function backEdges(start: string, succ: Successors): Set<string> {
  const back = new Set<string>();
  const state = new Map<string, 'open' | 'done'>([[start, 'open']]);
  const walk: Frame[] = [{ node: start, next: 0 }];
  while (walk.length > 0) {
    const top = walk[walk.length - 1]!;
    const outs = succ.get(top.node) ?? [];
    if (top.next === outs.length) {
      state.set(top.node, 'done');
      walk.pop();
      continue;
    }
    const target = outs[top.next++]!;
    const seen = state.get(target);
    if (seen === 'open') back.add(edgeKey(top.node, target));
    else if (seen === undefined) {
      state.set(target, 'open');
      walk.push({ node: target, next: 0 });
    }
  }
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
    // One push per successor: spreading a list of 100,000 arcs into push() would overflow the call stack.
    for (const m of succ.get(n) ?? []) if (!seen.has(m)) stack.push(m);
  }
  return seen;
}

export interface Components {
  /** Each component's members, in the order Tarjan's walk closes them: a component comes after every component it reaches. */
  members: string[][];
  /** The index in `members` of each node's component. */
  of: Map<string, number>;
}

/**
 * Strongly connected components (Tarjan), every node in one, with the walk's
 * stack in an array. Components close in reverse topological order, which
 * callers use to rule out paths: a node reaches only components closed before its own.
 */
export function stronglyConnected(succ: Successors): Components {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const members: string[][] = [];
  const of = new Map<string, number>();
  const walk: Frame[] = [];
  const open = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    walk.push({ node, next: 0 });
  };
  for (const root of succ.keys()) {
    if (index.has(root)) continue;
    open(root);
    while (walk.length > 0) {
      const top = walk[walk.length - 1]!;
      const outs = succ.get(top.node) ?? [];
      if (top.next < outs.length) {
        const target = outs[top.next++]!;
        if (!index.has(target)) open(target);
        else if (onStack.has(target)) low.set(top.node, Math.min(low.get(top.node)!, index.get(target)!));
        continue;
      }
      walk.pop();
      const parent = walk[walk.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(top.node)!));
      if (low.get(top.node) !== index.get(top.node)) continue;
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        of.set(member, members.length);
        component.push(member);
      } while (member !== top.node);
      members.push(component);
    }
  }
  return { members, of };
}

/** Whether a component is a cycle: several nodes, or one with an edge to itself. */
export function isCycle(component: readonly string[], succ: Successors): boolean {
  return component.length > 1 || (succ.get(component[0]!) ?? []).includes(component[0]!);
}

/** The cycles: strongly connected components that are cycles, in the order Tarjan closes them. */
export function cycles(succ: Successors): string[][] {
  return stronglyConnected(succ).members.filter((c) => isCycle(c, succ));
}
