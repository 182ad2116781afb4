/**
 * The OpenLineage event of a step attempt: its inputs are the tables of the
 * steps with an arc into it and the products it consumes; its output is its
 * table, named as the product when it produces one.
 */
import { productDataset, stepDataset, stepRunEvent, type RunEvent, type RunEventType } from '../../lineage/index.ts';
import type { StepCommand, StepResult } from '../../platform/bus/messages.ts';

export function stepLineage(cmd: StepCommand, eventType: RunEventType, at: string, result?: StepResult, error?: string): RunEvent {
  const playbook = cmd.playbook.slice(cmd.playbook.indexOf('/') + 1);
  const upstream = cmd.upstream.flatMap((u) => {
    const r = cmd.scope.results[u.step];
    if (r?.kind !== 'table') return [];
    return [{ dataset: u.produces ? productDataset(u.produces) : stepDataset(cmd.domain, playbook, u.step), schema: r.schema }];
  });
  const products = Object.entries(cmd.consumes).map(([id, ref]) => ({ dataset: productDataset(id), schema: ref.schema }));
  const output =
    result?.kind === 'table'
      ? { dataset: cmd.produces ? productDataset(cmd.produces.productId) : stepDataset(cmd.domain, playbook, cmd.step), schema: result.schema, rows: result.rows, bytes: result.bytes }
      : undefined;
  const sql = cmd.tool.kind === 'duckdb' && typeof cmd.tool.sql === 'string' ? cmd.tool.sql : undefined;
  return stepRunEvent(
    { executionId: cmd.executionId, domain: cmd.domain, playbook, step: cmd.step, attempt: cmd.attempt, toolKind: cmd.tool.kind },
    { eventType, eventTime: at, inputs: [...upstream, ...products], ...(output ? { output } : {}), ...(sql !== undefined ? { sql } : {}), ...(error !== undefined ? { error } : {}) },
  );
}
