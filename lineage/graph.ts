/**
 * Lineage graph walks over dataset → job → dataset edges. Pure: the caller
 * loads the edges; these functions answer upstream/downstream questions with a
 * depth bound and say when they stopped early.
 */
import { datasetKey, type DatasetRef, type JobRef } from './model.ts';

export interface LineageEdge {
  from: DatasetRef;
  job: JobRef;
  to: DatasetRef;
}

export interface Walk {
  /** Datasets reached, nearest first, without the start. */
  datasets: (DatasetRef & { depth: number })[];
  /** True when the depth bound cut the walk short. */
  partial: boolean;
}

/** Every edge from each INPUT to each OUTPUT of a completed run. */
export function edgesOfRun(inputs: readonly DatasetRef[], job: JobRef, outputs: readonly DatasetRef[]): LineageEdge[] {
  return inputs.flatMap((from) => outputs.map((to) => ({ from: { namespace: from.namespace, name: from.name }, job, to: { namespace: to.namespace, name: to.name } })));
}

export function walk(edges: readonly LineageEdge[], start: DatasetRef, direction: 'upstream' | 'downstream', maxDepth: number): Walk {
  const next = new Map<string, DatasetRef[]>();
  for (const e of edges) {
    const [a, b] = direction === 'downstream' ? [e.from, e.to] : [e.to, e.from];
    const k = datasetKey(a);
    const list = next.get(k) ?? [];
    list.push(b);
    next.set(k, list);
  }
  const seen = new Set([datasetKey(start)]);
  const out: Walk['datasets'] = [];
  let frontier: DatasetRef[] = [start];
  let partial = false;
  for (let depth = 1; frontier.length > 0; depth++) {
    const following: DatasetRef[] = [];
    for (const d of frontier) {
      for (const n of next.get(datasetKey(d)) ?? []) {
        const k = datasetKey(n);
        if (seen.has(k)) continue;
        if (depth > maxDepth) {
          partial = true;
          continue;
        }
        seen.add(k);
        out.push({ ...n, depth });
        following.push(n);
      }
    }
    frontier = following;
  }
  return { datasets: out, partial };
}
