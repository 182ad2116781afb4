/**
 * Column lineage of one SQL query, from the syntax tree DuckDB's own parser
 * gives (`json_serialize_sql`). Each output column maps to the input columns it
 * is computed from: DIRECT/IDENTITY (copied), DIRECT/TRANSFORMATION (computed),
 * DIRECT/AGGREGATION (aggregated); columns that decide which rows appear are
 * INDIRECT: JOIN, FILTER, GROUP_BY, SORT. Handles SELECT over tables, views and
 * read_parquet() with joins, WHERE, GROUP BY, HAVING, ORDER BY and * expansion;
 * for anything else (CTEs, subqueries, set operations) it answers undefined
 * rather than guess. Pure: the caller runs the parser.
 */
import type { DatasetRef } from './model.ts';

export interface SqlInput {
  dataset: DatasetRef;
  columns: string[];
}

export interface SqlSources {
  /** Tables and views by name (lower case). */
  tables: Record<string, SqlInput>;
  /** Parquet files read with read_parquet('<path>'), by path. */
  files: Record<string, SqlInput>;
}

export interface InputField {
  namespace: string;
  name: string;
  field: string;
  transformations: { type: 'DIRECT' | 'INDIRECT'; subtype: string }[];
}

export interface ColumnLineage {
  fields: Record<string, { inputFields: InputField[] }>;
  dataset: InputField[];
}

const AGGREGATES = new Set([
  'count', 'count_star', 'sum', 'avg', 'mean', 'min', 'max', 'median', 'mode', 'stddev', 'stddev_samp', 'stddev_pop', 'variance', 'var_samp', 'var_pop',
  'quantile', 'quantile_cont', 'quantile_disc', 'approx_count_distinct', 'approx_quantile', 'string_agg', 'group_concat', 'list', 'array_agg', 'first', 'last',
  'any_value', 'arg_max', 'arg_min', 'max_by', 'min_by', 'bool_and', 'bool_or', 'histogram', 'product', 'entropy', 'kurtosis', 'skewness', 'corr', 'covar_pop', 'covar_samp',
]);

type Node = Record<string, unknown>;
type Ref = { input: SqlInput; column: string };

export function columnLineageFromAst(ast: unknown, sources: SqlSources, outputColumns: readonly string[]): ColumnLineage | undefined {
  const stmt = ((ast as { error?: boolean; statements?: { node: Node }[] }).statements ?? [])[0]?.node;
  if (!stmt || stmt.type !== 'SELECT_NODE' || hasCtes(stmt)) return undefined;
  const scope = new Map<string, SqlInput>();
  const joinRefs: Node[] = [];
  if (!collectFrom(stmt.from_table as Node | undefined, sources, scope, joinRefs)) return undefined;
  const resolve = (names: string[]): Ref[] => {
    const lower = names.map((n) => n.toLowerCase());
    if (lower.length >= 2) {
      const input = scope.get(lower[lower.length - 2]!);
      const column = input?.columns.find((c) => c.toLowerCase() === lower[lower.length - 1]);
      return input && column ? [{ input, column }] : [];
    }
    return [...scope.values()].flatMap((input) => {
      const column = input.columns.find((c) => c.toLowerCase() === lower[0]);
      return column ? [{ input, column }] : [];
    });
  };
  const out: ColumnLineage = { fields: {}, dataset: [] };
  const add = (list: InputField[], r: Ref, type: 'DIRECT' | 'INDIRECT', subtype: string): void => {
    const existing = list.find((f) => f.namespace === r.input.dataset.namespace && f.name === r.input.dataset.name && f.field === r.column);
    if (existing) {
      if (!existing.transformations.some((t) => t.type === type && t.subtype === subtype)) existing.transformations.push({ type, subtype });
    } else list.push({ namespace: r.input.dataset.namespace, name: r.input.dataset.name, field: r.column, transformations: [{ type, subtype }] });
  };
  const items = (stmt.select_list as Node[] | undefined) ?? [];
  const hasStar = items.some((i) => i.class === 'STAR');
  const taken = new Set<string>();
  items.forEach((item, position) => {
    if (item.class === 'STAR') {
      const inputs = typeof item.relation_name === 'string' && item.relation_name !== '' ? [scope.get(item.relation_name.toLowerCase())].filter((x): x is SqlInput => !!x) : [...scope.values()];
      const excluded = new Set(((item.exclude_list as unknown[] | undefined) ?? []).map((e) => String(e).toLowerCase()));
      for (const input of inputs) {
        for (const column of input.columns) {
          if (excluded.has(column.toLowerCase()) || !outputColumns.includes(column)) continue;
          const field = (out.fields[column] ??= { inputFields: [] });
          add(field.inputFields, { input, column }, 'DIRECT', 'IDENTITY');
          taken.add(column);
        }
      }
      return;
    }
    const name = typeof item.alias === 'string' && item.alias !== '' ? item.alias : item.class === 'COLUMN_REF' ? (item.column_names as string[]).at(-1)! : hasStar ? undefined : outputColumns[position];
    const column = name === undefined ? undefined : outputColumns.find((c) => c.toLowerCase() === name.toLowerCase());
    if (column === undefined || taken.has(column)) return;
    taken.add(column);
    const subtype = item.class === 'COLUMN_REF' ? 'IDENTITY' : containsAggregate(item) ? 'AGGREGATION' : 'TRANSFORMATION';
    const field = (out.fields[column] ??= { inputFields: [] });
    for (const ref of columnRefs(item).flatMap(resolve)) add(field.inputFields, ref, 'DIRECT', subtype);
  });
  const indirect: [string, unknown][] = [
    ['JOIN', joinRefs],
    ['FILTER', [stmt.where_clause, stmt.having]],
    ['GROUP_BY', stmt.group_expressions],
    ['SORT', ((stmt.modifiers as Node[] | undefined) ?? []).filter((m) => m.type === 'ORDER_MODIFIER').flatMap((m) => ((m.orders as Node[]) ?? []).map((o) => o.expression))],
  ];
  for (const [subtype, expr] of indirect) {
    for (const ref of columnRefs(expr).flatMap(resolve)) {
      add(out.dataset, ref, 'INDIRECT', subtype);
      for (const f of Object.values(out.fields)) add(f.inputFields, ref, 'INDIRECT', subtype);
    }
  }
  return out;
}

/** Fills the scope from a FROM clause; false when it holds something this analysis does not follow. */
function collectFrom(from: Node | undefined, sources: SqlSources, scope: Map<string, SqlInput>, joinRefs: Node[]): boolean {
  if (!from || from.type === 'EMPTY_FROM') return true;
  if (from.type === 'BASE_TABLE') {
    const input = sources.tables[String(from.table_name).toLowerCase()];
    if (!input) return false;
    scope.set((typeof from.alias === 'string' && from.alias !== '' ? from.alias : String(from.table_name)).toLowerCase(), input);
    return true;
  }
  if (from.type === 'TABLE_FUNCTION') {
    const fn = from.function as Node;
    const arg = ((fn.children as Node[] | undefined) ?? [])[0];
    const path = (arg?.value as { value?: unknown } | undefined)?.value;
    const input = fn.function_name === 'read_parquet' && typeof path === 'string' ? sources.files[path] : undefined;
    if (!input) return false;
    scope.set((typeof from.alias === 'string' && from.alias !== '' ? from.alias : 'read_parquet').toLowerCase(), input);
    return true;
  }
  if (from.type === 'JOIN') {
    if (!collectFrom(from.left as Node, sources, scope, joinRefs) || !collectFrom(from.right as Node, sources, scope, joinRefs)) return false;
    if (from.condition) joinRefs.push(from.condition as Node);
    for (const c of (from.using_columns as string[] | undefined) ?? []) joinRefs.push({ class: 'COLUMN_REF', column_names: [c] });
    return true;
  }
  return false;
}

function hasCtes(stmt: Node): boolean {
  const map = (stmt.cte_map as { map?: unknown[] } | undefined)?.map;
  return Array.isArray(map) && map.length > 0;
}

/** Every column reference inside an expression (or list of them), not descending into subqueries. */
function columnRefs(expr: unknown): string[][] {
  const out: string[][] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === 'object') {
      const n = v as Node;
      if (n.class === 'SUBQUERY') return;
      if (n.class === 'COLUMN_REF') out.push(n.column_names as string[]);
      else Object.values(n).forEach(visit);
    }
  };
  visit(expr);
  return out;
}

function containsAggregate(expr: unknown): boolean {
  if (Array.isArray(expr)) return expr.some(containsAggregate);
  if (expr === null || typeof expr !== 'object') return false;
  const n = expr as Node;
  if (n.class === 'AGGREGATE' || (n.class === 'FUNCTION' && AGGREGATES.has(String(n.function_name).toLowerCase()))) return true;
  return Object.values(n).some(containsAggregate);
}
