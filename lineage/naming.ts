/**
 * Names, by the OpenLineage naming conventions (namespace `scheme://authority`,
 * then a name). Every domain refers to a product by the same name, so lineage
 * written by the producing domain joins with the consuming domain's.
 */
import { createHash } from 'node:crypto';
import type { DatasetRef, JobRef } from './model.ts';

export const PRODUCTS_NAMESPACE = 'noetl://products';

export function productDataset(productId: string): DatasetRef {
  return { namespace: PRODUCTS_NAMESPACE, name: productId };
}

/** The output of a step that is not a product: stable across runs of the playbook. */
export function stepDataset(domain: string, playbook: string, step: string): DatasetRef {
  return { namespace: `noetl://${domain}`, name: `${playbook}.${step}` };
}

export function executionJob(domain: string, playbook: string): JobRef {
  return { namespace: `noetl://${domain}`, name: playbook };
}

export function stepJob(domain: string, playbook: string, step: string): JobRef {
  return { namespace: `noetl://${domain}`, name: `${playbook}.${step}` };
}

/** The product id a dataset stands for, if it is a product. */
export function productOf(d: DatasetRef): string | undefined {
  return d.namespace === PRODUCTS_NAMESPACE ? d.name : undefined;
}

/** A stable UUID (version-5 layout) derived from a name, for run ids of steps. */
export function uuidFromName(name: string): string {
  const h = createHash('sha1').update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
