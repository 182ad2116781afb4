/**
 * `http`: one request, with a timeout, retries on 429 and 5xx (honouring
 * Retry-After, else exponential backoff), at most `max_redirects` redirects.
 * A JSON answer up to `inline_limit` bytes is the step's value; a larger JSON
 * array is written as Parquet and the step returns a table reference instead.
 * An answer over `max_bytes` (64 MiB) is refused. The request itself goes
 * through http-client.ts: only allowed addresses, no credentials to another
 * origin on a redirect. A template inside the URL is one percent-encoded
 * component (common/url-templates.ts); `query` and `body` values keep their types.
 *
 *   tool: { kind: http, method: GET, url: "https://api/x", query: { day: "{{ workload.day }}" },
 *           headers: {}, body: {}, auth: { bearer: api_token }, timeout: 10s, retries: 3, max_redirects: 5,
 *           inline_limit: 65536, max_bytes: 67108864 }
 */
import fs from 'node:fs';
import { NoetlError } from '../../../common/errors.ts';
import { parseDuration } from '../../../common/duration.ts';
import { evaluateValue, renderDeep, renderTemplate } from '../../../common/expressions.ts';
import { renderUrl } from '../../../common/url-templates.ts';
import { sqlLiteral } from '../../../contracts/index.ts';
import type { StepResult } from '../../../platform/bus/messages.ts';
import { describeParquet } from './duckdb-tool.ts';
import { sendRequest, where } from './http-client.ts';
import { templateScope, type Tool, type ToolContext } from './tool.ts';

interface HttpSpec {
  method?: string;
  url?: string;
  query?: Record<string, unknown>;
  headers?: Record<string, unknown>;
  body?: unknown;
  timeout?: string | number;
  retries?: number;
  max_redirects?: number;
  inline_limit?: number;
  /** The largest answer accepted, in bytes (after decompression). */
  max_bytes?: number;
  /** Credentials from the keychain, never templated: `{bearer: <name>}` or `{basic: <name>}` (a "user:password" value). */
  auth?: { bearer?: string; basic?: string };
}

/** The default of `max_bytes`. */
export const HTTP_MAX_BYTES = 64 * 1024 * 1024;

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason as Error);
    }, { once: true });
  });

export const httpTool: Tool = {
  kind: 'http',
  async run(ctx) {
    const spec = renderSpec(ctx);
    if (typeof spec.url !== 'string' || !/^https?:\/\//.test(spec.url)) throw new NoetlError('E_PLAYBOOK_INVALID', `step "${ctx.command.step}": tool http needs an http(s) "url"`);
    const url = new URL(spec.url);
    for (const [k, v] of Object.entries(spec.query ?? {})) url.searchParams.set(k, v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v));
    const method = (spec.method ?? 'GET').toUpperCase();
    const retries = spec.retries ?? 3;
    const maxBytes = spec.max_bytes ?? HTTP_MAX_BYTES;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
      throw new NoetlError('E_PLAYBOOK_INVALID', `step "${ctx.command.step}": http max_bytes must be a positive whole number of bytes`);
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    for (const [name, value] of Object.entries(spec.headers ?? {})) headers[name.toLowerCase()] = String(value);
    Object.assign(headers, authHeader(ctx, spec.auth));
    let body: string | undefined;
    if (spec.body !== undefined) {
      body = typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body);
      headers['content-type'] ??= 'application/json';
    }
    const request = {
      method,
      url,
      headers,
      body,
      timeoutMs: parseDuration(spec.timeout) ?? 30_000,
      maxRedirects: spec.max_redirects ?? 5,
      maxBytes,
      allow: ctx.httpAllow,
      signal: ctx.signal,
      step: ctx.command.step,
    };
    for (let attempt = 0; ; attempt++) {
      ctx.heartbeat();
      const res = await sendRequest(request);
      if ((res.status === 429 || res.status >= 500) && attempt < retries) {
        const after = Number(res.headers['retry-after']);
        const wait = Number.isFinite(after) && after > 0 ? after * 1000 : 200 * 2 ** attempt;
        ctx.log.info('http retry', { status: res.status, attempt: attempt + 1, waitMs: wait });
        await sleep(Math.min(wait, 30_000), ctx.signal);
        continue;
      }
      if (res.status < 200 || res.status > 299) {
        const text = res.body.toString('utf8').slice(0, 300);
        throw new NoetlError(res.status === 429 || res.status >= 500 ? 'E_TOOL_FAILED' : 'E_HTTP_STATUS', `step "${ctx.command.step}": ${method} ${where(url)} answered ${res.status}${attempt > 0 ? ` after ${attempt + 1} tries` : ''}: ${text}`);
      }
      return result(ctx, res.body.toString('utf8'), spec.inline_limit ?? 64 * 1024);
    }
  },
};

/** The step's options with their templates evaluated: the URL by component, query and body values typed, the rest as text. */
function renderSpec(ctx: ToolContext): HttpSpec {
  const raw = ctx.command.tool as HttpSpec;
  const scope = templateScope(ctx.command);
  const budget = { deadline: ctx.deadline };
  const { url, query, body, ...rest } = raw;
  return {
    ...renderDeep(rest, scope, budget),
    url: renderUrl(url, scope, budget) as string | undefined,
    query: evaluateValue(query ?? {}, scope, budget) as Record<string, unknown>,
    body: typeof body === 'string' ? renderTemplate(body, scope, budget) : evaluateValue(body, scope, budget),
  };
}

function authHeader(ctx: ToolContext, auth: HttpSpec['auth']): Record<string, string> {
  if (auth === undefined) return {};
  if (typeof auth.bearer === 'string') return { authorization: `Bearer ${ctx.credential(auth.bearer)}` };
  if (typeof auth.basic === 'string') return { authorization: `Basic ${Buffer.from(ctx.credential(auth.basic)).toString('base64')}` };
  throw new NoetlError('E_PLAYBOOK_INVALID', `step "${ctx.command.step}": http auth is {bearer: <credential>} or {basic: <credential>}`);
}

/** A small JSON answer is the value; a large JSON array becomes a Parquet table. */
async function result(ctx: ToolContext, text: string, inlineLimit: number): Promise<StepResult> {
  let value: unknown;
  try {
    value = text === '' ? null : JSON.parse(text);
  } catch {
    value = text;
  }
  if (Buffer.byteLength(text) <= inlineLimit) return { kind: 'value', value };
  if (!Array.isArray(value)) throw new NoetlError('E_TOOL_FAILED', `step "${ctx.command.step}": the answer is ${Buffer.byteLength(text)} bytes, over inline_limit, and not a JSON array that could become a table`);
  const json = `${ctx.outputPath}.json`;
  fs.writeFileSync(json, value.map((r) => JSON.stringify(r)).join('\n'));
  const conn = await ctx.duckdb();
  try {
    await conn.run(`COPY (SELECT * FROM read_json_auto(${sqlLiteral(json)}, format = 'newline_delimited')) TO ${sqlLiteral(ctx.outputPath)} (FORMAT PARQUET)`);
    return await describeParquet(conn, ctx.artifacts, ctx.outputPath);
  } finally {
    conn.closeSync();
    fs.rmSync(json, { force: true });
  }
}
