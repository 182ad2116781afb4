/**
 * `duckdb`: runs one SQL query and writes its result as Parquet. Earlier steps'
 * tables are views named after their step and consumed products are reached
 * with `{{ product('domain.name') }}`; both read the Parquet files in place.
 * Every other template is a bound parameter (common/sql-templates.ts), and the
 * query runs on the command's own sandboxed database (sandbox/duckdb-sandbox.ts).
 *
 *   tool: { kind: duckdb, sql: "SELECT ... FROM earlier_step JOIN {{ product('risk.scores') }} USING (id) WHERE day = {{ workload.day }}" }
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { NoetlError } from '../../../common/errors.ts';
import { renderBound } from '../../../common/expressions.ts';
import { assertSqlTemplates, sqlBinder, type SqlBinder } from '../../../common/sql-templates.ts';
import { quoteIdent, sqlLiteral } from '../../../contracts/index.ts';
import type { ColumnSchema, StepResult, TableRef } from '../../../platform/bus/messages.ts';
import { columnLineageFromAst, productDataset, type ColumnLineage, type SqlSources } from '../../../lineage/index.ts';
import type { ArtifactStore } from '../../../platform/index.ts';
import { datasetOfStep, tableSchema } from '../step-lineage.ts';
import { duckdbParams, type DuckDbParams } from './duckdb-params.ts';
import { templateScope, type Tool, type ToolContext } from './tool.ts';

export const duckdbTool: Tool = {
  kind: 'duckdb',
  async run(ctx) {
    const query = ctx.command.tool.sql;
    if (typeof query !== 'string' || query.trim() === '') {
      throw new NoetlError('E_PLAYBOOK_INVALID', `step "${ctx.command.step}": tool duckdb needs a non-empty "sql" string`);
    }
    const step = ctx.command.step;
    assertSqlTemplates(query, `step "${step}"`);
    const binder = sqlBinder();
    const scope = { ...templateScope(ctx.command), product: productReader(ctx, binder) };
    const sql = renderBound(query, scope, binder, { deadline: ctx.deadline }).trim().replace(/;\s*$/, '');
    const conn = await ctx.duckdb();
    const stopBeating = every(5_000, ctx.heartbeat);
    const onAbort = (): void => conn.interrupt();
    ctx.signal.addEventListener('abort', onAbort);
    try {
      await assertOneStatement(conn, sql, step);
      await exposeUpstream(conn, ctx);
      await runSql(conn, `COPY (${sql}) TO ${sqlLiteral(ctx.outputPath)} (FORMAT PARQUET)`, step, duckdbParams(binder.params));
      const ref = await describeParquet(conn, ctx.artifacts, ctx.outputPath);
      ctx.lineage.columnLineage = await columnLineageOf(conn, sql, ctx, ref.schema.map((c) => c.name));
      return ref;
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      stopBeating();
      conn.closeSync();
    }
  },
};

/** Reads a Parquet file's schema and row count (from its footer) into a table reference. */
export async function describeParquet(conn: DuckDBConnection, store: ArtifactStore, file: string): Promise<TableRef> {
  const source = `read_parquet(${sqlLiteral(file)})`;
  const described = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
  const schema: ColumnSchema[] = described.getRowObjects().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  const counted = await conn.runAndReadAll(`SELECT sum(num_rows)::BIGINT AS n FROM parquet_file_metadata(${sqlLiteral(file)})`);
  const rows = Number(counted.getRowObjects()[0]?.n ?? 0);
  const { bytes, sha256 } = await store.fingerprint(file);
  return { kind: 'table', uri: store.uriOf(file), format: 'parquet', schema, rows, bytes, sha256 };
}

/**
 * Earlier steps' tables as views named after the steps: a loop's tables as one
 * view over all its items' files; in a task list, the previous task's table as `previous`.
 */
async function exposeUpstream(conn: DuckDBConnection, ctx: ToolContext): Promise<void> {
  const { results, previous } = ctx.command.scope as { results: Record<string, StepResult>; previous?: StepResult };
  const views = Object.entries(results);
  if (previous) views.push(['previous', previous]);
  for (const [name, result] of views) {
    const tables = result.kind === 'table' ? [result] : result.kind === 'list' && result.items.length > 0 && result.items.every((r) => r.kind === 'table') ? (result.items) : [];
    if (tables.length === 0) continue;
    const files = tables.map((t) => sqlLiteral(ctx.artifacts.resolve(t.uri)));
    await conn.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(name)} AS SELECT * FROM read_parquet([${files.join(', ')}], union_by_name = true)`);
  }
}

/** `product('d.p')`: the product's published file, as SQL text noetl itself writes (never a bound value). */
function productReader(ctx: ToolContext, binder: SqlBinder): (id: unknown) => string {
  return (id) => {
    const ref = ctx.command.consumes[String(id)];
    if (!ref) {
      const declared = Object.keys(ctx.command.consumes);
      throw new NoetlError('E_PLAYBOOK_UNDEFINED_PRODUCT', `step "${ctx.command.step}" reads product "${String(id)}" but consumes only ${declared.length > 0 ? declared.join(', ') : 'nothing'}; add it to the step's consumes`);
    }
    return binder.raw(`read_parquet(${sqlLiteral(ctx.artifacts.resolve(ref.uri))})`);
  };
}

/** A step is one query: a second statement (`; COPY … TO …`) is refused before anything runs. */
async function assertOneStatement(conn: DuckDBConnection, sql: string, step: string): Promise<void> {
  let count: number;
  try {
    count = (await conn.extractStatements(sql)).count;
  } catch (e) {
    throw new NoetlError('E_TOOL_SQL', `step "${step}": ${(e as Error).message}`, { cause: e });
  }
  if (count !== 1) throw new NoetlError('E_TOOL_SQL', `step "${step}": the sql holds ${count} statements; a duckdb step runs exactly one query`);
}

async function runSql(conn: DuckDBConnection, sql: string, step: string, params: DuckDbParams): Promise<void> {
  try {
    await conn.run(sql, params.values, params.types);
  } catch (e) {
    throw new NoetlError('E_TOOL_SQL', `step "${step}": ${(e as Error).message}`, { cause: e });
  }
}

function every(ms: number, fn: () => void): () => void {
  const t = setInterval(fn, ms);
  t.unref();
  return () => clearInterval(t);
}

/** Column lineage of the step's query, from DuckDB's own parser; undefined (never an error) when the query is beyond it. */
async function columnLineageOf(conn: DuckDBConnection, sql: string, ctx: ToolContext, outputColumns: string[]): Promise<ColumnLineage | undefined> {
  try {
    const r = await conn.runAndReadAll(`SELECT json_serialize_sql(${sqlLiteral(sql)})`);
    const ast = JSON.parse(String(r.getRows()[0]?.[0])) as unknown;
    const tables: SqlSources['tables'] = {};
    for (const [step, result] of Object.entries(ctx.command.scope.results)) {
      const schema = tableSchema(result);
      if (schema) tables[step.toLowerCase()] = { dataset: datasetOfStep(ctx.command, step), columns: schema.map((c) => c.name) };
    }
    const files: SqlSources['files'] = {};
    for (const [id, ref] of Object.entries(ctx.command.consumes)) files[ctx.artifacts.resolve(ref.uri)] = { dataset: productDataset(id), columns: ref.schema.map((c) => c.name) };
    return columnLineageFromAst(ast, { tables, files }, outputColumns);
  } catch (e) {
    ctx.log.debug('no column lineage for this query', { error: (e as Error).message });
    return undefined;
  }
}
