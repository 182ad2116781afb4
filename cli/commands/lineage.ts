/**
 * `noetl lineage <product|dataset|column>`: what feeds it and what it feeds.
 * A target is a product id (`risk.application_scores`), a product column
 * (`risk.application_scores.score`), or any dataset as `namespace/name`
 * (`s3://lake/gold/customer_360`), with `#column` for a column of it.
 */
import { NoetlError } from '../../common/errors.ts';
import { lineage, type Config, type Direction, type LineageAnswer, type NodeKey } from '../../platform/index.ts';
import { renderLineage, type LineageFormat } from '../lineage/render.ts';
import type { Print } from '../progress.ts';
import { openCatalog } from '../runtime.ts';

export function parseTarget(target: string): NodeKey {
  const hash = target.indexOf('#');
  const column = hash >= 0 ? target.slice(hash + 1) : undefined;
  const base = hash >= 0 ? target.slice(0, hash) : target;
  const scheme = base.indexOf('://');
  if (scheme >= 0) {
    const slash = base.indexOf('/', scheme + 3);
    if (slash < 0 || slash === base.length - 1) throw new NoetlError('E_REQUEST_INVALID', `dataset "${target}" must be namespace/name, e.g. s3://lake/gold/customer_360`);
    return { namespace: base.slice(0, slash), name: base.slice(slash + 1), ...(column ? { column } : {}) };
  }
  const parts = base.split('.');
  if (parts.length === 2) return { namespace: 'noetl://products', name: base, ...(column ? { column } : {}) };
  if (parts.length === 3 && !column) return { namespace: 'noetl://products', name: `${parts[0]}.${parts[1]}`, column: parts[2]! };
  throw new NoetlError('E_REQUEST_INVALID', `"${target}" is not a product (domain.product), a product column (domain.product.column) or a dataset (namespace/name)`);
}

export interface LineageOptions {
  direction: Direction;
  depth: number;
  format: LineageFormat;
  server?: string;
}

export async function lineageCommand(config: Config, target: string, o: LineageOptions, print: Print): Promise<number> {
  const start = parseTarget(target);
  const answer = o.server ? await fromServer(o.server, start, o) : await fromDatabase(config, start, o);
  if (answer.nodes.length === 0 && answer.partial.length === 0 && o.format === 'tree') print(`${target}: no lineage recorded ${o.direction === 'both' ? 'either way' : o.direction}`);
  else print(renderLineage(answer, o.format));
  return 0;
}

async function fromServer(server: string, start: NodeKey, o: LineageOptions): Promise<LineageAnswer> {
  const q = new URLSearchParams({ namespace: start.namespace, name: start.name, direction: o.direction, depth: String(o.depth), ...(start.column ? { column: start.column } : {}) });
  const res = await fetch(new URL(`/api/v1/lineage/graph?${q.toString()}`, server));
  const body = (await res.json()) as LineageAnswer & { error?: { code: string; message: string } };
  if (!res.ok) throw new NoetlError((body.error?.code ?? 'E_REQUEST_INVALID') as NoetlError['code'], body.error?.message ?? `HTTP ${res.status}`);
  return body;
}

async function fromDatabase(config: Config, start: NodeKey, o: LineageOptions): Promise<LineageAnswer> {
  const { database } = await openCatalog(config);
  try {
    return await lineage(database.db, start, { direction: o.direction, depth: o.depth });
  } finally {
    await database.close();
  }
}
