/** SQL text helpers for the check compiler: quoting, literals, and the placeholders the gate fills in. */

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function sqlLiteral(value: string | number | boolean | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`not a finite number: ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * Placeholders in check queries, replaced by the gate with a readable source
 * (e.g. `read_parquet('…')`): the output being checked, a referenced table, the
 * product's previously published version.
 */
export const SOURCE = {
  table: '${table}',
  ref: (key: string): string => `\${ref:${key}}`,
  previous: '${previous}',
} as const;

export interface Sources {
  table: string;
  refs: Record<string, string>;
  previous: string | undefined;
}

/** Fills the placeholders; undefined when a source the query needs is missing (the check is then skipped). */
export function bindSources(query: string, sources: Sources, column?: string): string | undefined {
  let missing = false;
  const out = query.replace(/\$\{(table|previous|column|ref:[^}]+)\}/g, (_m, name: string) => {
    if (name === 'table') return sources.table;
    if (name === 'column') return column === undefined ? ((missing = true), '') : quoteIdent(column);
    if (name === 'previous') return sources.previous ?? ((missing = true), '');
    const ref = sources.refs[name.slice(4)];
    return ref ?? ((missing = true), '');
  });
  return missing ? undefined : out;
}
