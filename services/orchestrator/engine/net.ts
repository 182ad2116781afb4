/**
 * A playbook compiled to a Petri net. Steps are transitions; each `next` arc
 * and each retry rule's `jump` is a place between two steps; the start step
 * has one extra input place holding the initial token. A step with several
 * forward input places is a join. Arcs that close a cycle (back edges, found
 * by a depth-first walk from the start) are inputs of another kind: one live
 * token on any of them fires the step again, with no join.
 */
import type { Loop, Playbook, RetryRule, RouteMode } from '../dsl/model.ts';
import { backEdges, edgeKey, successors } from '../dsl/step-graph.ts';

export interface OutputArc {
  place: string;
  to: string;
  when: string | boolean | undefined;
  set: Record<string, unknown> | undefined;
  /** Closes a cycle: never carries a skip token. */
  back: boolean;
  /** Taken only by a retry rule's `jump`. */
  jump: boolean;
}

export interface Transition {
  name: string;
  /** Forward input places: the step fires when every one holds a token (a join when several). */
  inputs: string[];
  /** Back-edge input places: a live token on any one fires the step again. */
  loopInputs: string[];
  /** Steps with a forward arc into this one. */
  from: string[];
  outputs: OutputArc[];
  mode: RouteMode;
  retry: RetryRule[];
  loop: Loop | undefined;
}

export interface Net {
  start: string;
  initialPlace: string;
  transitions: Map<string, Transition>;
  /** Steps in playbook order, for stable decisions. */
  order: string[];
  /** Each step's position in `order`. */
  rank: Map<string, number>;
  /** The step each place is an input of. */
  consumer: Map<string, string>;
}

export const INITIAL_PLACE = '(start)';

export function placeId(from: string, to: string, jump = false): string {
  return jump ? `${from}=>${to}` : `${from}->${to}`;
}

export function compileNet(p: Playbook): Net {
  const transitions = new Map<string, Transition>();
  for (const s of p.steps) transitions.set(s.name, { name: s.name, inputs: [], loopInputs: [], from: [], outputs: [], mode: s.mode, retry: s.retry, loop: s.loop });
  const start = p.steps[0]!.name;
  transitions.get(start)!.inputs.push(INITIAL_PLACE);
  const back = backEdges(start, successors(p));
  // Places and forward arcs already connected, kept beside the lists: a join may have a hundred thousand inputs.
  const placed = new Set<string>();
  const fed = new Set<string>();
  const connect = (from: string, to: string, arc: Pick<OutputArc, 'when' | 'set' | 'jump'>): void => {
    const target = transitions.get(to);
    if (!target) return;
    const place = placeId(from, to, arc.jump);
    const isBack = back.has(edgeKey(from, to));
    if (placed.has(place)) return;
    placed.add(place);
    (isBack ? target.loopInputs : target.inputs).push(place);
    if (!isBack && !fed.has(edgeKey(from, to))) {
      fed.add(edgeKey(from, to));
      target.from.push(from);
    }
    transitions.get(from)!.outputs.push({ place, to, ...arc, back: isBack });
  };
  for (const s of p.steps) {
    for (const a of s.next) connect(s.name, a.step, { when: a.when, set: a.set, jump: false });
    for (const r of s.retry) if (r.then === 'jump' && r.step !== undefined) connect(s.name, r.step, { when: undefined, set: undefined, jump: true });
  }
  const consumer = new Map<string, string>();
  for (const t of transitions.values()) for (const place of [...t.inputs, ...t.loopInputs]) consumer.set(place, t.name);
  const order = p.steps.map((s) => s.name);
  return { start, initialPlace: INITIAL_PLACE, transitions, order, rank: new Map(order.map((name, i) => [name, i])), consumer };
}
