/**
 * `clickhouse`: a query, a command or an insert through @clickhouse/client.
 * The credential is the server's URL (`http://user:password@host:8123/db`),
 * kept in the worker's vault. A query's rows become the step's table (Parquet,
 * by reference); an insert streams a table reference's rows into a ClickHouse
 * table. Values go in `params`, bound to `$1`, `$2`, ... as ClickHouse literals
 * (ClickHouse 18.16 takes no server-side parameters, see clickhouse-params.ts);
 * a template in the SQL text is bound the same way, after `params`
 * (common/sql-templates.ts), and a name is `{{ … | identifier }}`.
 *
 *   tool: { kind: clickhouse, credential: events_db, query: "SELECT service, count() AS n FROM spans GROUP BY service" }
 *   tool: { kind: clickhouse, credential: events_db, query: "SELECT * FROM spans WHERE service = $1", params: ["{{ workload.service }}"] }
 *   tool: { kind: clickhouse, credential: events_db, command: "CREATE TABLE IF NOT EXISTS spans (...) ENGINE = MergeTree ORDER BY id" }
 *   tool: { kind: clickhouse, credential: events_db, insert: { table: spans, from: "{{ results.generate_spans }}" } }
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { Readable } from 'node:stream';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { NoetlError } from '../../../common/errors.ts';
import { evaluateValue, renderBound } from '../../../common/expressions.ts';
import { assertSqlTemplates, sqlBinder } from '../../../common/sql-templates.ts';
import { sqlLiteral } from '../../../contracts/index.ts';
import type { StepResult, TableRef } from '../../../platform/bus/messages.ts';
import { bindClickHouse } from './clickhouse-params.ts';
import { describeParquet } from './duckdb-tool.ts';
import { recordWrite, templateScope, type Tool, type ToolContext } from './tool.ts';

interface ClickHouseSpec {
  credential?: unknown;
  query?: unknown;
  command?: unknown;
  params?: unknown;
  insert?: { table?: unknown; from?: unknown };
  timeout_ms?: number;
}

export const clickhouseTool: Tool = {
  kind: 'clickhouse',
  async run(ctx) {
    const spec = ctx.command.tool as ClickHouseSpec;
    const step = ctx.command.step;
    const given = ['query', 'command', 'insert'].filter((k) => spec[k as keyof ClickHouseSpec] !== undefined);
    if (given.length !== 1) throw new NoetlError('E_PLAYBOOK_INVALID', `step "${step}": tool clickhouse needs exactly one of query, command or insert (got ${given.join(', ') || 'none'})`);
    if (typeof spec.credential !== 'string') throw new NoetlError('E_PLAYBOOK_INVALID', `step "${step}": tool clickhouse needs "credential" (a keychain name whose value is the server URL)`);
    const server = parseServer(ctx.credential(spec.credential));
    const client = connect(server, spec.timeout_ms);
    const onAbort = (): void => void client.close();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const scope = templateScope(ctx.command);
      const params: unknown = evaluateValue(spec.params ?? [], scope, { deadline: ctx.deadline });
      if (!Array.isArray(params)) throw new NoetlError('E_PLAYBOOK_INVALID', `step "${step}": clickhouse "params" must be a list`);
      const sql = (text: string): string => {
        assertSqlTemplates(text, `step "${step}"`);
        const binder = sqlBinder({ first: params.length + 1, quote: (name) => `\`${name}\`` });
        const rendered = renderBound(text, scope, binder, { deadline: ctx.deadline });
        return bindClickHouse(rendered, [...(params as unknown[]), ...binder.params], step);
      };
      if (typeof spec.command === 'string') {
        const command = sql(spec.command);
        await guard(step, () => client.command({ query: command }));
        return { kind: 'none' };
      }
      if (typeof spec.query === 'string') return await query(ctx, client, sql(spec.query));
      return await insert(ctx, client, spec.insert ?? {}, server);
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      await client.close();
    }
  },
};

interface Server {
  url: URL;
  database: string;
  /** `clickhouse://host:port`, the OpenLineage namespace of its tables: never the credentials. */
  namespace: string;
}

function parseServer(credential: string): Server {
  let url: URL;
  try {
    url = new URL(credential);
  } catch {
    throw new NoetlError('E_CONFIG_INVALID', 'the clickhouse credential is not a URL (expected http://user:password@host:8123/database)');
  }
  const port = url.port || (url.protocol === 'https:' ? '8443' : '8123');
  return { url, database: url.pathname.replace(/^\//, '') || 'default', namespace: `clickhouse://${url.hostname}:${port}` };
}

function connect(server: Server, timeoutMs = 300_000): ClickHouseClient {
  const parsed = server.url;
  return createClient({
    url: `${parsed.protocol}//${parsed.host}`,
    username: decodeURIComponent(parsed.username) || 'default',
    password: decodeURIComponent(parsed.password),
    database: server.database,
    request_timeout: timeoutMs,
    compression: { request: false, response: false },
    // Progress headers keep a long query's connection alive through proxies.
    clickhouse_settings: { send_progress_in_http_headers: 1, http_headers_progress_interval_ms: '10000' },
    // The step's outcome reports failures, coded and with secrets redacted: the client logs nothing itself.
    log: { level: ClickHouseLogLevel.OFF },
  });
}

/** Rows of a query, streamed to JSON Lines and written as Parquet by DuckDB. */
async function query(ctx: ToolContext, client: ClickHouseClient, sql: string): Promise<StepResult> {
  const jsonl = `${ctx.outputPath}.jsonl`;
  const file = fs.createWriteStream(jsonl);
  let rows = 0;
  try {
    await guard(ctx.command.step, async () => {
      const result = await client.query({ query: sql, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } });
      for await (const batch of result.stream()) {
        for (const row of batch as { text: string }[]) {
          if (!file.write(`${row.text}\n`)) await new Promise<void>((r) => file.once('drain', () => r()));
          rows++;
        }
        ctx.heartbeat();
      }
    });
  } finally {
    await new Promise<void>((resolve) => file.end(resolve));
  }
  const conn = await ctx.duckdb();
  try {
    const source = rows === 0 ? 'SELECT NULL AS empty WHERE false' : `SELECT * FROM read_json_auto(${sqlLiteral(jsonl)}, format = 'newline_delimited')`;
    await conn.run(`COPY (${source}) TO ${sqlLiteral(ctx.outputPath)} (FORMAT PARQUET)`);
    return await describeParquet(conn, ctx.artifacts, ctx.outputPath);
  } finally {
    conn.closeSync();
    fs.rmSync(jsonl, { force: true });
  }
}

/** A table reference's rows into a ClickHouse table: DuckDB reads the Parquet, the client streams it as JSONEachRow. */
async function insert(ctx: ToolContext, client: ClickHouseClient, spec: { table?: unknown; from?: unknown }, server: Server): Promise<StepResult> {
  const step = ctx.command.step;
  if (typeof spec.table !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(spec.table)) {
    throw new NoetlError('E_PLAYBOOK_INVALID', `step "${step}": clickhouse insert needs "table", a table name (optionally database.table)`);
  }
  const ref = evaluateValue(spec.from, templateScope(ctx.command)) as Partial<TableRef> | null;
  if (ref?.kind !== 'table' || typeof ref.uri !== 'string') throw new NoetlError('E_PLAYBOOK_INVALID', `step "${step}": clickhouse insert "from" is not a table reference (give e.g. "{{ results.<step> }}")`);
  const jsonl = `${ctx.outputPath}.jsonl`;
  const conn = await ctx.duckdb();
  try {
    await conn.run(`COPY (SELECT * FROM read_parquet(${sqlLiteral(ctx.artifacts.resolve(ref.uri))})) TO ${sqlLiteral(jsonl)} (FORMAT JSON)`);
  } finally {
    conn.closeSync();
  }
  try {
    await guard(step, () => client.insert({ table: spec.table as string, values: Readable.from(jsonRows(jsonl)), format: 'JSONEachRow' }));
  } finally {
    fs.rmSync(jsonl, { force: true });
  }
  const table = spec.table.includes('.') ? spec.table : `${server.database}.${spec.table}`;
  recordWrite(ctx, { namespace: server.namespace, name: table }, ref as TableRef);
  return { kind: 'value', value: { table: spec.table, rows: ref.rows } };
}

async function* jsonRows(file: string): AsyncGenerator<unknown> {
  for await (const line of readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity })) {
    if (line.trim() !== '') yield JSON.parse(line) as unknown;
  }
}

/** A server's answer to bad SQL is E_TOOL_SQL; not reaching it is E_TOOL_FAILED (retryable). */
async function guard<T>(step: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    const err = e as Error & { code?: string; type?: string };
    // Newer servers send a typed error; 18.16 answers "Code: 47, e.displayText() = ...".
    const fromServer = typeof err.type === 'string' || /^\d+$/.test(String(err.code ?? '')) || /^Code: \d+/.test(err.message);
    throw new NoetlError(fromServer ? 'E_TOOL_SQL' : 'E_TOOL_FAILED', `step "${step}": clickhouse: ${err.message.split('\n')[0]}`, { cause: e });
  }
}
