/**
 * A playbook compiled to a Petri net. Steps are transitions; each `next` arc is a
 * place between two steps; the start step has one extra input place holding the
 * initial token. A step with several input places is a join.
 */
import type { Playbook, RetryPolicy, RouteMode } from '../dsl/model.ts';

export interface OutputArc {
  place: string;
  to: string;
  when: string | boolean | undefined;
}

export interface Transition {
  name: string;
  inputs: string[];
  /** Steps with an arc into this one. */
  from: string[];
  outputs: OutputArc[];
  mode: RouteMode;
  retry: RetryPolicy | undefined;
}

export interface Net {
  start: string;
  initialPlace: string;
  transitions: Map<string, Transition>;
  /** Steps in playbook order, for stable decisions. */
  order: string[];
}

export const INITIAL_PLACE = '(start)';

export function placeId(from: string, to: string): string {
  return `${from}->${to}`;
}

export function compileNet(p: Playbook): Net {
  const transitions = new Map<string, Transition>();
  for (const s of p.steps) transitions.set(s.name, { name: s.name, inputs: [], from: [], outputs: [], mode: s.mode, retry: s.retry });
  const start = p.steps[0]!.name;
  transitions.get(start)!.inputs.push(INITIAL_PLACE);
  for (const s of p.steps) {
    for (const a of s.next) {
      const place = placeId(s.name, a.step);
      const target = transitions.get(a.step);
      if (!target) continue;
      if (!target.inputs.includes(place)) {
        target.inputs.push(place);
        target.from.push(s.name);
      }
      transitions.get(s.name)!.outputs.push({ place, to: a.step, when: a.when });
    }
  }
  return { start, initialPlace: INITIAL_PLACE, transitions, order: p.steps.map((s) => s.name) };
}
