/** A lineage answer in Marquez's graph shape: dataset and job nodes, linked dataset → job → dataset. */
import type { LineageAnswer, NodeKey } from '../../../platform/index.ts';

interface MarquezNode {
  id: string;
  type: 'DATASET' | 'JOB';
  data: { namespace: string; name: string };
  inEdges: { origin: string; destination: string }[];
  outEdges: { origin: string; destination: string }[];
}

export function toMarquez(a: LineageAnswer): { graph: MarquezNode[]; partial: LineageAnswer['partial'] } {
  const nodes = new Map<string, MarquezNode>();
  const node = (type: 'DATASET' | 'JOB', k: NodeKey): MarquezNode => {
    const id = `${type === 'DATASET' ? 'dataset' : 'job'}:${k.namespace}:${k.name}`;
    let n = nodes.get(id);
    if (!n) {
      n = { id, type, data: { namespace: k.namespace, name: k.name }, inEdges: [], outEdges: [] };
      nodes.set(id, n);
    }
    return n;
  };
  node('DATASET', a.start);
  const link = (from: MarquezNode, to: MarquezNode): void => {
    if (!from.outEdges.some((e) => e.destination === to.id)) from.outEdges.push({ origin: from.id, destination: to.id });
    if (!to.inEdges.some((e) => e.origin === from.id)) to.inEdges.push({ origin: from.id, destination: to.id });
  };
  for (const e of a.edges) {
    const job = node('JOB', e.job);
    link(node('DATASET', e.from), job);
    link(job, node('DATASET', e.to));
  }
  return { graph: [...nodes.values()], partial: a.partial };
}
