/**
 * `postgres`: one statement with bound parameters — workload values go in
 * `params`, or are templates in the SQL that bind as the parameters after them,
 * never SQL text — on the connection a keychain credential names. Rows stream through a cursor into Parquet (typed from PostgreSQL's own
 * column types), so a large result never sits in memory; a statement without
 * rows returns its row count.
 *
 *   keychain: [{ name: warehouse, kind: postgres }]
 *   tool: { kind: postgres, credential: warehouse, sql: "SELECT * FROM orders WHERE day = $1", params: ["{{ workload.day }}"] }
 *   tool: { kind: postgres, credential: warehouse, sql: "SELECT * FROM orders WHERE day = {{ workload.day }}" }
 */
import fs from 'node:fs';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { NoetlError } from '../../../common/errors.ts';
import { evaluateValue, renderBound } from '../../../common/expressions.ts';
import { assertSqlTemplates, sqlBinder } from '../../../common/sql-templates.ts';
import { quoteIdent, sqlLiteral } from '../../../contracts/index.ts';
import { describeParquet } from './duckdb-tool.ts';
import { columnLineageFromAst, type SqlSources } from '../../../lineage/index.ts';
import { templateScope, type Tool, type ToolLineage } from './tool.ts';

/** PostgreSQL type oids → DuckDB types; anything else arrives as text. */
const TYPES: Record<number, string> = {
  16: 'BOOLEAN', 20: 'BIGINT', 21: 'SMALLINT', 23: 'INTEGER', 700: 'FLOAT', 701: 'DOUBLE', 1700: 'DOUBLE',
  1082: 'DATE', 1114: 'TIMESTAMP', 1184: 'TIMESTAMPTZ', 1083: 'TIME', 2950: 'UUID', 114: 'JSON', 3802: 'JSON',
};

const BATCH = 10_000;

export const postgresTool: Tool = {
  kind: 'postgres',
  async run(ctx) {
    const spec = ctx.command.tool as { credential?: string; sql?: string; params?: unknown[] };
    if (typeof spec.sql !== 'string' || spec.sql.trim() === '') throw new NoetlError('E_PLAYBOOK_INVALID', `step "${ctx.command.step}": tool postgres needs "sql"`);
    if (typeof spec.credential !== 'string') throw new NoetlError('E_PLAYBOOK_INVALID', `step "${ctx.command.step}": tool postgres needs "credential" (a keychain name)`);
    const scope = templateScope(ctx.command);
    const given = evaluateValue(spec.params ?? [], scope, { deadline: ctx.deadline });
    if (!Array.isArray(given)) throw new NoetlError('E_PLAYBOOK_INVALID', `step "${ctx.command.step}": postgres "params" must be a list`);
    assertSqlTemplates(spec.sql, `step "${ctx.command.step}"`);
    const binder = sqlBinder({ first: given.length + 1 });
    const statement = renderBound(spec.sql, scope, binder, { deadline: ctx.deadline });
    const params = [...(given as unknown[]), ...binder.params];
    const client = new pg.Client({ connectionString: ctx.credential(spec.credential), types: { getTypeParser: () => (v: string) => v } });
    const onAbort = (): void => void client.end().catch(() => undefined);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await client.connect();
      const cursor = client.query(new Cursor<Record<string, unknown>>(statement, params));
      const ndjson = `${ctx.outputPath}.ndjson`;
      const out = fs.createWriteStream(ndjson);
      let batch: Batch;
      let total = 0;
      try {
        do {
          batch = await read(cursor, BATCH);
          for (const r of batch.rows) out.write(JSON.stringify(r) + '\n');
          total += batch.rows.length;
          ctx.heartbeat();
        } while (batch.rows.length === BATCH);
        await cursor.close();
      } finally {
        // After an error the cursor is done for; closing it would wait forever. Ending the client frees it.
        await new Promise<void>((resolve) => out.end(resolve));
      }
      if (batch.fields.length === 0) {
        fs.rmSync(ndjson, { force: true });
        return { kind: 'value', value: { rowCount: batch.rowCount ?? total } };
      }
      const ref = await toParquet(ctx, ndjson, batch.fields);
      await reportLineage(ctx, client, statement, ref.schema.map((c) => c.name)).catch((e: unknown) => ctx.log.debug('no lineage for this query', { error: (e as Error).message }));
      return ref;
    } catch (e) {
      if (e instanceof NoetlError) throw e;
      throw new NoetlError('E_TOOL_SQL', `step "${ctx.command.step}": ${(e as Error).message}`, { cause: e });
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      await client.end().catch(() => undefined);
    }
  },
};

interface Batch {
  rows: Record<string, unknown>[];
  fields: { name: string; dataTypeID: number }[];
  rowCount: number | null;
}

function read(cursor: Cursor<Record<string, unknown>>, n: number): Promise<Batch> {
  return new Promise((resolve, reject) => {
    cursor.read(n, (err, rows, result) => (err ? reject(err) : resolve({ rows, fields: result.fields, rowCount: result.rowCount })));
  });
}

async function toParquet(ctx: Parameters<Tool['run']>[0], ndjson: string, fields: { name: string; dataTypeID: number }[]) {
  const columns = fields.map((f) => `${sqlLiteral(f.name)}: ${sqlLiteral(TYPES[f.dataTypeID] ?? 'VARCHAR')}`).join(', ');
  const select = fields.map((f) => quoteIdent(f.name)).join(', ');
  const conn = await ctx.duckdb();
  try {
    await conn.run(`COPY (SELECT ${select} FROM read_json(${sqlLiteral(ndjson)}, format = 'newline_delimited', columns = {${columns}})) TO ${sqlLiteral(ctx.outputPath)} (FORMAT PARQUET)`);
    return await describeParquet(conn, ctx.artifacts, ctx.outputPath);
  } finally {
    conn.closeSync();
    fs.rmSync(ndjson, { force: true });
  }
}

/**
 * The tables a query reads, as OpenLineage datasets (namespace `postgres://host:port`,
 * name `database.schema.table`; never the credentials), and its column lineage
 * through DuckDB's parser, which reads PostgreSQL's SELECT syntax.
 */
async function reportLineage(ctx: Parameters<Tool['run']>[0], client: pg.Client, sql: string, outputColumns: string[]): Promise<void> {
  const conn = await ctx.duckdb();
  let ast: unknown;
  try {
    ast = JSON.parse(String((await conn.runAndReadAll(`SELECT json_serialize_sql(${sqlLiteral(sql)})`)).getRows()[0]?.[0]));
  } finally {
    conn.closeSync();
  }
  const tables = baseTables(ast);
  if (tables.length === 0) return;
  const namespace = `postgres://${client.host}:${client.port}`;
  const sources: SqlSources = { tables: {}, files: {} };
  const inputs: NonNullable<ToolLineage['inputs']> = [];
  for (const t of tables) {
    const schema = t.schema || 'public';
    const cols = await client.query<{ column_name: string; data_type: string }>(
      'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
      [schema, t.table],
    );
    if (cols.rows.length === 0) continue;
    const dataset = { namespace, name: `${client.database ?? ''}.${schema}.${t.table}` };
    sources.tables[t.table.toLowerCase()] = { dataset, columns: cols.rows.map((c) => c.column_name) };
    inputs.push({ dataset, schema: cols.rows.map((c) => ({ name: c.column_name, type: c.data_type })) });
  }
  ctx.lineage.inputs = inputs;
  const columns = columnLineageFromAst(ast, sources, outputColumns);
  if (columns) ctx.lineage.columnLineage = columns;
}

/** Every table a statement names in FROM and JOIN clauses. */
function baseTables(ast: unknown): { schema: string; table: string }[] {
  const out: { schema: string; table: string }[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === 'object') {
      const n = v as Record<string, unknown>;
      if (n.type === 'BASE_TABLE' && typeof n.table_name === 'string') out.push({ schema: typeof n.schema_name === 'string' ? n.schema_name : '', table: n.table_name });
      Object.values(n).forEach(visit);
    }
  };
  visit(ast);
  return out;
}
