/**
 * The OpenLineage event of a step attempt: its inputs are the tables of the
 * steps with an arc into it and the products it consumes; its output is its
 * table, named as the product when it produces one, with the column lineage
 * its tool worked out.
 */
import { productDataset, stepDataset, stepRunEvent, type DatasetRef, type RunEvent, type RunEventType } from '../../lineage/index.ts';
import type { Contract } from '../../contracts/index.ts';
import { unitName, type QualityReport, type StepCommand, type StepResult } from '../../platform/bus/messages.ts';
import type { ToolLineage } from './tools/tool.ts';

/** The dataset an earlier step's table is: its product if it published one, else the step's own output. */
export function datasetOfStep(cmd: StepCommand, step: string): DatasetRef {
  const produces = cmd.upstream.find((u) => u.step === step)?.produces;
  return produces ? productDataset(produces) : stepDataset(cmd.domain, playbookName(cmd), step);
}

/** The columns of a step's table result; a loop's tables (one per item) read as one table. */
export function tableSchema(result: StepResult | undefined): { name: string; type: string }[] | undefined {
  if (result?.kind === 'table') return result.schema;
  const first = result?.kind === 'list' ? result.items[0] : undefined;
  return first?.kind === 'table' ? first.schema : undefined;
}

function playbookName(cmd: StepCommand): string {
  return cmd.playbook.slice(cmd.playbook.indexOf('/') + 1);
}

export function stepLineage(cmd: StepCommand, eventType: RunEventType, at: string, result?: StepResult, error?: string, tool: ToolLineage = {}, quality?: QualityReport): RunEvent {
  const columnLineage = tool.columnLineage;
  const upstream = cmd.upstream.flatMap((u) => {
    const schema = tableSchema(cmd.scope.results[u.step]);
    return schema ? [{ dataset: datasetOfStep(cmd, u.step), schema }] : [];
  });
  const products = Object.entries(cmd.consumes).map(([id, ref]) => ({ dataset: productDataset(id), schema: ref.schema }));
  const output =
    result?.kind === 'table'
      ? {
          dataset: cmd.produces ? productDataset(cmd.produces.productId) : stepDataset(cmd.domain, playbookName(cmd), cmd.step),
          schema: result.schema,
          rows: result.rows,
          bytes: result.bytes,
          ...(columnLineage ? { columnLineage } : {}),
          ...(cmd.produces ? { product: productFacts(cmd.produces.contract as Contract, quality) } : {}),
        }
      : undefined;
  const sql = cmd.tool.kind === 'duckdb' && typeof cmd.tool.sql === 'string' ? cmd.tool.sql : undefined;
  return stepRunEvent(
    { executionId: cmd.executionId, domain: cmd.domain, playbook: playbookName(cmd), step: cmd.step, attempt: cmd.attempt, unit: unitName(cmd).slice(cmd.step.length), toolKind: cmd.tool.kind },
    { eventType, eventTime: at, inputs: distinct([...upstream, ...products, ...(tool.inputs ?? [])]), ...(output ? { output } : {}), ...(tool.outputs ? { written: tool.outputs } : {}), ...(sql !== undefined ? { sql } : {}), ...(error !== undefined ? { error } : {}) },
  );
}

/** Each dataset once, first mention kept (a tool may name a dataset the step's upstream already gives). */
function distinct<T extends { dataset: DatasetRef }>(inputs: T[]): T[] {
  const seen = new Set<string>();
  return inputs.filter((i) => {
    const key = `${i.dataset.namespace}\u0000${i.dataset.name}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function productFacts(contract: Contract, quality: QualityReport | undefined): { owners: string[]; description: string | undefined; assertions: { assertion: string; success: boolean; column?: string }[] } {
  return {
    owners: contract.owners,
    description: contract.description,
    assertions: (quality?.checks ?? []).filter((c) => c.skipped === undefined).map((c) => ({ assertion: c.id, success: c.passed, ...(c.column ? { column: c.column } : {}) })),
  };
}
