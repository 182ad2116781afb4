/**
 * What a command's DuckDB may touch: every table the command was handed (the
 * results of earlier steps it reads, the products it consumes, what its gate
 * compares against), read-only, and its own staging folder, read-write. Paths
 * come from references the artifact store resolves, so none lies outside it.
 */
import path from 'node:path';
import type { StepCommand, StepResult, TableRef } from '../../../platform/bus/messages.ts';
import type { ArtifactStore } from '../../../platform/index.ts';
import type { DuckDbAccess } from './duckdb-sandbox.ts';

export function commandAccess(cmd: StepCommand, store: ArtifactStore, outputPath: string): DuckDbAccess {
  const refs: TableRef[] = [];
  const collect = (result: StepResult | undefined): void => {
    if (result?.kind === 'table') refs.push(result);
    else if (result?.kind === 'list') result.items.forEach(collect);
  };
  Object.values(cmd.scope.results).forEach(collect);
  collect(cmd.scope.previous as StepResult | undefined);
  refs.push(...Object.values(cmd.consumes), ...gateRefs(cmd));
  return { read: [...new Set(refs.map((r) => store.resolve(r.uri)))], write: [path.dirname(outputPath)] };
}

/** The tables a product's gate reads besides the output: relationship targets, compared products, the current version. */
export function gateRefs(cmd: StepCommand): TableRef[] {
  const produces = cmd.produces;
  if (!produces) return [];
  return [...Object.values(produces.references ?? {}), ...(produces.previous ? [produces.previous] : [])];
}
