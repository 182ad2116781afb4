/**
 * Worker pools as the orchestrator knows them: a name, the labels its workers
 * offer (e.g. `cpu`, `gpu`, `highmem`) and how many steps it runs at once.
 * A step asking for resources goes to the first pool offering all of them.
 */
import { NoetlError } from '../../../common/errors.ts';
import { PLAYBOOK_TOOL, type Playbook } from '../dsl/model.ts';

export interface PoolConfig {
  name: string;
  labels: string[];
  maxInFlight: number;
}

export const DEFAULT_POOLS: PoolConfig[] = [{ name: 'default', labels: ['cpu'], maxInFlight: 64 }];

/**
 * The pool of every step, or E_NO_MATCHING_POOL naming the step, what it asked
 * for and what exists. A sub-playbook step has none: the orchestrator runs it,
 * and it must not hold a worker slot its child's steps may need.
 */
export function routeSteps(playbook: Playbook, pools: readonly PoolConfig[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of playbook.steps) {
    if (s.tool.kind === PLAYBOOK_TOOL) continue;
    const pool = s.resources.length === 0 ? (pools.find((p) => p.name === 'default') ?? pools[0]) : pools.find((p) => s.resources.every((r) => p.labels.includes(r)));
    if (!pool) {
      const known = pools.map((p) => `${p.name} [${p.labels.join(', ')}]`).join('; ') || 'none';
      throw new NoetlError('E_NO_MATCHING_POOL', `step "${s.name}" of ${playbook.ref} needs resources [${s.resources.join(', ')}], and no pool offers them all; pools: ${known}`);
    }
    out.set(s.name, pool.name);
  }
  return out;
}
