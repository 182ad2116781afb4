/**
 * The order to build playbooks in: a playbook that consumes a product comes
 * after the playbook that produces it. Cycles between playbooks are reported.
 */
import type { Playbook } from './model.ts';

export interface BuildOrder {
  order: Playbook[];
  /** Playbooks caught in a produces/consumes cycle, which cannot be ordered. */
  cyclic: Playbook[];
}

export function buildOrder(playbooks: readonly Playbook[]): BuildOrder {
  const producerOf = new Map<string, Playbook>();
  for (const p of playbooks) for (const s of p.steps) if (s.produces) producerOf.set(s.produces, p);
  const deps = new Map<Playbook, Set<Playbook>>();
  for (const p of playbooks) {
    const d = new Set<Playbook>();
    for (const s of p.steps) for (const c of s.consumes) {
      const producer = producerOf.get(c);
      if (producer && producer !== p) d.add(producer);
    }
    deps.set(p, d);
  }
  const order: Playbook[] = [];
  const done = new Set<Playbook>();
  let progressed = true;
  while (progressed) {
    progressed = false;
    for (const p of playbooks) {
      if (done.has(p) || ![...deps.get(p)!].every((d) => done.has(d))) continue;
      order.push(p);
      done.add(p);
      progressed = true;
    }
  }
  return { order, cyclic: playbooks.filter((p) => !done.has(p)) };
}
