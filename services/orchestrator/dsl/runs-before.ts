/**
 * "Can step X run before step Y?": is there a path of arcs from X to Y (from a
 * step to itself only round a cycle)? The template checker asks it for every
 * `results.<step>` a template reads.
 *
 * Keeping each step's set of ancestors would cost memory quadratic in a chain
 * (five billion entries for 100,000 steps). Instead the graph is condensed
 * once into its strongly connected components and walked once in depth-first
 * order, which gives every component a discovery and a finishing time (linear
 * memory). Those times answer most questions outright:
 *   - X and Y in one component: yes if it is a cycle (two steps of a cycle run
 *     before each other); a step alone runs before itself only with an arc to itself;
 *   - Y's component finished after X's: no (a walk finishes X only after
 *     everything X reaches);
 *   - Y's times nest inside X's in the walk's tree: yes (Y was reached from X).
 * What is left is decided by a search from X that never enters a component
 * finished before Y's (it cannot lead to Y), stopping at the first component
 * whose tree holds Y. Answers are remembered per pair, so the memory is the
 * graph plus the questions asked.
 */
import { isCycle, stronglyConnected, type Successors } from './step-graph.ts';

export type RunsBefore = (from: string, to: string) => boolean;

export function runsBefore(succ: Successors): RunsBefore {
  const { members, of } = stronglyConnected(succ);
  const count = members.length;
  const cyclic = members.map((c) => isCycle(c, succ));
  const next: number[][] = members.map((component, c) => {
    const targets = new Set<number>();
    for (const node of component) for (const target of succ.get(node) ?? []) if (of.get(target) !== c) targets.add(of.get(target)!);
    return [...targets];
  });
  const { discovered, finished } = walkTimes(next);
  const visited = new Int32Array(count).fill(-1);
  let search = 0;
  const answers = new Map<string, boolean>();
  const inTree = (ancestor: number, node: number): boolean => discovered[ancestor]! <= discovered[node]! && finished[node]! <= finished[ancestor]!;

  const reaches = (from: number, to: number): boolean => {
    if (from === to) return cyclic[from]!;
    if (finished[to]! > finished[from]!) return false;
    if (inTree(from, to)) return true;
    search++;
    const stack = [from];
    visited[from] = search;
    while (stack.length > 0) {
      const component = stack.pop()!;
      for (const target of next[component]!) {
        if (visited[target] === search || finished[target]! < finished[to]!) continue;
        if (inTree(target, to)) return true;
        visited[target] = search;
        stack.push(target);
      }
    }
    return false;
  };

  return (from, to) => {
    const a = of.get(from);
    const b = of.get(to);
    if (a === undefined || b === undefined) return false;
    const key = `${a} ${b}`;
    let answer = answers.get(key);
    if (answer === undefined) answers.set(key, (answer = reaches(a, b)));
    return answer;
  };
}

/** Discovery and finishing times of a depth-first walk over an acyclic graph of numbered nodes, from every node not yet seen. */
function walkTimes(next: readonly (readonly number[])[]): { discovered: Int32Array; finished: Int32Array } {
  const count = next.length;
  const discovered = new Int32Array(count).fill(-1);
  const finished = new Int32Array(count).fill(-1);
  const position = new Int32Array(count);
  const stack: number[] = [];
  let clock = 0;
  // Roots from the highest number down: Tarjan numbers components sinks first, so sources come last.
  for (let root = count - 1; root >= 0; root--) {
    if (discovered[root] !== -1) continue;
    discovered[root] = clock++;
    stack.push(root);
    while (stack.length > 0) {
      const node = stack[stack.length - 1]!;
      const targets = next[node]!;
      if (position[node]! < targets.length) {
        const target = targets[position[node]!++]!;
        if (discovered[target] === -1) {
          discovered[target] = clock++;
          stack.push(target);
        }
        continue;
      }
      finished[node] = clock++;
      stack.pop();
    }
  }
  return { discovered, finished };
}
