/** A lineage answer for people (an indented tree), for docs (Mermaid), for Graphviz (DOT), or as JSON. */
import { nodeId, type LineageAnswer, type LineageLink, type NodeKey } from '../../platform/index.ts';

export type LineageFormat = 'tree' | 'mermaid' | 'dot' | 'json';

const label = (k: NodeKey): string => (k.namespace === 'noetl://products' ? k.name : `${k.namespace}/${k.name}`) + (k.column !== undefined ? `.${k.column}` : '');
const linkLabel = (l: LineageLink): string => l.transformation ?? l.job.name;

export function renderLineage(a: LineageAnswer, format: LineageFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(a, null, 2);
    case 'tree':
      return tree(a);
    case 'mermaid':
      return mermaid(a);
    case 'dot':
      return dot(a);
  }
}

function tree(a: LineageAnswer): string {
  const lines = [label(a.start)];
  for (const dir of ['upstream', 'downstream'] as const) {
    const children = new Map<string, { node: NodeKey; via: string }[]>();
    for (const l of a.edges) {
      const [from, to] = dir === 'downstream' ? [l.from, l.to] : [l.to, l.from];
      const isDir = a.nodes.some((n) => n.direction === dir && nodeId(n) === nodeId(to));
      if (!isDir) continue;
      const list = children.get(nodeId(from)) ?? [];
      if (!list.some((c) => nodeId(c.node) === nodeId(to))) list.push({ node: to, via: linkLabel(l) });
      children.set(nodeId(from), list);
    }
    if (!a.nodes.some((n) => n.direction === dir)) continue;
    lines.push(`${dir === 'upstream' ? '▲ upstream' : '▼ downstream'}`);
    const printed = new Set<string>();
    const visit = (k: NodeKey, prefix: string): void => {
      const kids = children.get(nodeId(k)) ?? [];
      kids.forEach((c, i) => {
        const last = i === kids.length - 1;
        const again = printed.has(nodeId(c.node));
        lines.push(`${prefix}${last ? '└─' : '├─'} ${label(c.node)}  [${c.via}]${again ? ' (shown above)' : ''}`);
        if (again) return;
        printed.add(nodeId(c.node));
        visit(c.node, `${prefix}${last ? '   ' : '│  '}`);
      });
    };
    visit(a.start, '');
  }
  for (const p of a.partial) lines.push(`… cut short at ${p.node} (${p.reason} budget)`);
  return lines.join('\n');
}

function mermaid(a: LineageAnswer): string {
  const ids = new Map<string, string>();
  const id = (k: NodeKey): string => {
    const key = nodeId(k);
    if (!ids.has(key)) ids.set(key, `n${ids.size}`);
    return ids.get(key)!;
  };
  const out = ['graph LR'];
  for (const k of [a.start, ...a.nodes]) out.push(`  ${id(k)}["${label(k).replace(/"/g, "'")}"]`);
  for (const l of a.edges) out.push(`  ${id(l.from)} -->|${linkLabel(l).replace(/[|"]/g, ' ')}| ${id(l.to)}`);
  return out.join('\n');
}

function dot(a: LineageAnswer): string {
  const q = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const out = ['digraph lineage {', '  rankdir=LR;', `  ${q(label(a.start))} [style=bold];`];
  for (const l of a.edges) out.push(`  ${q(label(l.from))} -> ${q(label(l.to))} [label=${q(linkLabel(l))}];`);
  out.push('}');
  return out.join('\n');
}
