/**
 * Who a change to a product hits: the products built from it, transitively,
 * with their domains and owners, and the playbooks that read it. The graph
 * comes from the playbooks' `consumes` and `produces` declarations (a product
 * feeds every product of a playbook that consumes it) and from contract
 * relationships (a product that references another depends on it).
 */
import { parseYaml } from '../../common/yaml-source.ts';
import { relationshipTable } from '../../contracts/index.ts';
import { productDataset, productOf, walk, type LineageEdge } from '../../lineage/index.ts';
import type { DomainsSnapshot } from '../../platform/index.ts';

/** What a playbook reads and writes, read straight from its YAML so that even a playbook that no longer checks counts. */
export interface PlaybookIO {
  ref: string;
  domain: string;
  consumes: string[];
  produces: string[];
}

export function playbookIO(snapshot: DomainsSnapshot): PlaybookIO[] {
  return snapshot.domains.flatMap((d) =>
    d.playbooks.map((p) => {
      const steps = ((parseYaml(p.text, p.file).value as { workflow?: unknown } | undefined)?.workflow ?? []) as { consumes?: unknown; produces?: unknown }[];
      const list = Array.isArray(steps) ? steps : [];
      return {
        ref: `${d.name}/${p.name}`,
        domain: d.name,
        consumes: list.flatMap((s) => (Array.isArray(s?.consumes) ? s.consumes.filter((c): c is string => typeof c === 'string') : [])),
        produces: list.flatMap((s) => (typeof s?.produces === 'string' ? [s.produces] : [])),
      };
    }),
  );
}

export interface Impact {
  products: { id: string; domain: string; owners: string[]; depth: number }[];
  playbooks: string[];
  domains: string[];
}

export function productGraph(snapshot: DomainsSnapshot, playbooks: readonly PlaybookIO[]): LineageEdge[] {
  const edges: LineageEdge[] = [];
  for (const p of playbooks) {
    for (const consumed of new Set(p.consumes)) {
      for (const out of p.produces) edges.push({ from: productDataset(consumed), job: { namespace: `noetl://${p.domain}`, name: p.ref }, to: productDataset(out) });
    }
  }
  const byTable = new Map([...snapshot.products.values()].map((c) => [c.contract.objectName, c.contract.productId]));
  for (const { contract } of snapshot.products.values()) {
    for (const r of contract.properties.flatMap((p) => p.relationships)) {
      const target = byTable.get(relationshipTable(r.to));
      if (target && target !== contract.productId) edges.push({ from: productDataset(target), job: { namespace: 'noetl://contracts', name: 'relationship' }, to: productDataset(contract.productId) });
    }
  }
  return edges;
}

export function impactOf(productId: string, snapshot: DomainsSnapshot, playbooks: readonly PlaybookIO[], edges: readonly LineageEdge[]): Impact {
  const reached = walk(edges, productDataset(productId), 'downstream', 50).datasets;
  const products = reached.flatMap((d) => {
    const id = productOf(d);
    const c = id ? snapshot.products.get(id)?.contract : undefined;
    return id ? [{ id, domain: c?.domain ?? id.split('.')[0]!, owners: c?.owners ?? [], depth: d.depth }] : [];
  });
  const affected = new Set([productId, ...products.map((p) => p.id)]);
  const readers = playbooks.filter((p) => p.consumes.some((c) => affected.has(c))).map((p) => p.ref);
  const domains = [...new Set([...products.map((p) => p.domain), ...readers.map((r) => r.split('/')[0]!)])].sort();
  return { products, playbooks: readers.sort(), domains };
}

/**
 * Adds what a registry's lineage graph knows is downstream of the product
 * (including consumers outside noetl that reported OpenLineage events).
 */
export async function withRegistryLineage(impact: Impact, productId: string, server: string, snapshot: DomainsSnapshot): Promise<Impact> {
  const res = await fetch(new URL(`/api/v1/products/${encodeURIComponent(productId)}`, server));
  if (!res.ok) return impact;
  const body = (await res.json()) as { lineage?: { downstream?: string[] } };
  const known = new Set(impact.products.map((p) => p.id));
  const extra = (body.lineage?.downstream ?? []).filter((id) => !known.has(id)).map((id) => {
    const c = snapshot.products.get(id)?.contract;
    return { id, domain: c?.domain ?? id.split('.')[0]!, owners: c?.owners ?? [], depth: 0 };
  });
  const products = [...impact.products, ...extra];
  return { ...impact, products, domains: [...new Set([...impact.domains, ...extra.map((p) => p.domain)])].sort() };
}
