/**
 * Relationships between contracts. A property's `relationships: [{to:
 * table.column}]` names a table (the schema object, `schema[0].name`, of some
 * contract) and one of its columns; the quality gate checks that every value
 * exists there, finding the table among the products by that name (as the
 * supervisor's gateReferences does). A table no contract declares, one that
 * two contracts declare, or a column the table lacks, would make that check
 * fail or pick at random on every run: here each is an error at its `to`.
 */
import type { Diagnostic } from '../common/diagnostics.ts';
import { suggest } from '../common/suggest.ts';
import type { YamlSource } from '../common/yaml-source.ts';
import { relationshipTable } from './checks/compile.ts';
import type { Contract } from './model.ts';

export interface ParsedContract {
  contract: Contract;
  /** Its file, for positions. */
  source: YamlSource;
}

/** Every relationship of every contract, checked against the tables all of them declare. */
export function checkRelationships(contracts: readonly ParsedContract[]): Diagnostic[] {
  const byTable = new Map<string, Contract[]>();
  for (const { contract } of contracts) {
    const declaring = byTable.get(contract.objectName);
    if (declaring) declaring.push(contract);
    else byTable.set(contract.objectName, [contract]);
  }
  const out: Diagnostic[] = [];
  for (const { contract, source } of contracts) {
    for (const property of contract.properties) {
      for (const relationship of property.relationships) {
        const problem = relationshipProblem(relationship.to, byTable);
        if (problem) out.push({ ...source.locate([...relationship.path, 'to']), code: 'E_CONTRACT_INVALID', severity: 'error', message: `property "${property.name}" relates to ${relationship.to}, but ${problem}` });
      }
    }
  }
  return out;
}

function relationshipProblem(to: string, byTable: ReadonlyMap<string, Contract[]>): string | undefined {
  const table = relationshipTable(to);
  const column = to.slice(table.length + 1);
  const declaring = byTable.get(table) ?? [];
  if (declaring.length === 0) return `no contract declares a table "${table}"${suggest(table, byTable.keys())}; a relationship names a contract's schema object and one of its properties`;
  if (declaring.length > 1) return `table "${table}" is declared by ${declaring.length} contracts (${declaring.map((c) => c.productId).join(', ')}), so the gate could compare with either; give each its own schema object name`;
  const target = declaring[0]!;
  const columns = target.properties.map((p) => p.name);
  if (columns.includes(column)) return undefined;
  return `table "${table}" (contract ${target.productId}) has no column "${column}"${suggest(column, columns)}; its columns: ${columns.join(', ')}`;
}
