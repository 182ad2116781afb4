/**
 * `python`: a script run by python3 in a subprocess, with a time and a memory
 * limit. Inputs are table references handed over as Parquet paths (read in
 * place; `input_format: jsonl` adds a JSON Lines copy for a python without
 * pyarrow). The script writes rows (`noetl.write_rows`, or Parquet itself at
 * `noetl.output_parquet`) for a table result, or `noetl.result(value)` for a
 * value (or Arrow IPC at `noetl.output_arrow`). Its stdout and stderr go into the step's events, secrets redacted.
 *
 *   tool: { kind: python, inputs: { scores: "{{ results.score }}" }, input_format: jsonl,
 *           time_limit: 60s, memory_limit_mb: 512, credentials: [api_key],
 *           script: "import noetl\nnoetl.write_rows({'n': r['n'] * 2} for r in noetl.read_rows('scores'))" }
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseDuration } from '../../../common/duration.ts';
import { NoetlError } from '../../../common/errors.ts';
import { evaluateValue } from '../../../common/expressions.ts';
import { sqlLiteral } from '../../../contracts/index.ts';
import type { StepResult, TableRef } from '../../../platform/bus/messages.ts';
import { redact } from '../../../platform/log/logger.ts';
import { arrowIpcToParquet } from '../artifacts/arrow.ts';
import { describeParquet } from './duckdb-tool.ts';
import { templateScope, type Tool, type ToolContext } from './tool.ts';

interface PythonSpec {
  script?: unknown;
  inputs?: Record<string, unknown>;
  input_format?: 'parquet' | 'jsonl';
  time_limit?: string | number;
  memory_limit_mb?: number;
  credentials?: string[];
}

const RUNNER = path.join(import.meta.dirname, 'python', 'runner.py');
/** Captured output kept per stream; the rest is cut (the events stay small). */
const OUTPUT_LIMIT = 16 * 1024;
const MEMORY_EXIT = 86;

export const pythonTool: Tool = {
  kind: 'python',
  async run(ctx) {
    const spec = ctx.command.tool as PythonSpec;
    const step = ctx.command.step;
    if (typeof spec.script !== 'string' || spec.script.trim() === '') throw new NoetlError('E_PLAYBOOK_INVALID', `step "${step}": tool python needs a non-empty "script"`);
    const dir = `${ctx.outputPath.replace(/\.parquet$/, '')}.python`;
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const secrets = Object.fromEntries((spec.credentials ?? []).map((name) => [name, ctx.credential(name)]));
    const files = { script: path.join(dir, 'script.py'), context: path.join(dir, 'context.json'), rows: path.join(dir, 'output.jsonl'), value: path.join(dir, 'result.json'), parquet: path.join(dir, 'output.parquet'), arrow: path.join(dir, 'output.arrow') };
    fs.writeFileSync(files.script, spec.script);
    const timeLimitMs = parseDuration(spec.time_limit) ?? 300_000;
    const memoryMb = spec.memory_limit_mb ?? 1024;
    fs.writeFileSync(
      files.context,
      JSON.stringify({
        script_path: files.script,
        workload: ctx.command.scope.workload,
        execution_id: ctx.command.executionId,
        attempt: ctx.command.attempt,
        inputs: await inputsOf(ctx, spec, dir),
        output_jsonl: files.rows,
        output_parquet: files.parquet,
        output_arrow: files.arrow,
        result_json: files.value,
        memory_limit_bytes: memoryMb * 1024 * 1024,
      }),
    );
    const run = await runPython(ctx, [RUNNER, files.context], dir, secrets, timeLimitMs);
    const hide = Object.values(secrets).concat(ctx.secrets);
    ctx.output.stdout = redact(run.stdout, hide);
    ctx.output.stderr = redact(run.stderr, hide);
    if (run.timedOut) throw new NoetlError('E_TOOL_LIMIT', `step "${step}": the python script ran longer than its time limit of ${timeLimitMs} ms and was stopped`);
    if (run.code === MEMORY_EXIT) throw new NoetlError('E_TOOL_LIMIT', `step "${step}": the python script went over its memory limit of ${memoryMb} MiB`);
    if (run.code !== 0) throw new NoetlError('E_TOOL_FAILED', `step "${step}": the python script exited with ${run.code ?? run.signal}: ${lastLines(ctx.output.stderr, 6)}`);
    return await resultOf(ctx, files);
  },
};

/** Each input as the script sees it: the Parquet path and what is in it; with `input_format: jsonl`, also a JSON Lines copy. */
async function inputsOf(ctx: ToolContext, spec: PythonSpec, dir: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(spec.inputs ?? {})) {
    const ref = evaluateValue(raw, templateScope(ctx.command)) as Partial<TableRef> | null;
    if (ref?.kind !== 'table' || typeof ref.uri !== 'string') {
      throw new NoetlError('E_PLAYBOOK_INVALID', `step "${ctx.command.step}": python input "${name}" is not a table reference (give e.g. "{{ results.<step> }}" of a step with a table)`);
    }
    const file = ctx.artifacts.resolve(ref.uri);
    const entry: Record<string, unknown> = { path: file, format: 'parquet', rows: ref.rows, schema: ref.schema };
    if (spec.input_format === 'jsonl') {
      entry.path_jsonl = path.join(dir, `input-${name}.jsonl`);
      const conn = await ctx.duckdb.connect();
      try {
        await conn.run(`COPY (SELECT * FROM read_parquet(${sqlLiteral(file)})) TO ${sqlLiteral(entry.path_jsonl as string)} (FORMAT JSON)`);
      } finally {
        conn.closeSync();
      }
    }
    out[name] = entry;
  }
  return out;
}

/** A table if the script wrote rows or Parquet, else its value, else nothing. */
async function resultOf(ctx: ToolContext, files: { rows: string; value: string; parquet: string; arrow: string }): Promise<StepResult> {
  const conn = await ctx.duckdb.connect();
  try {
    if (fs.existsSync(files.parquet)) {
      fs.renameSync(files.parquet, ctx.outputPath);
      return await describeParquet(conn, ctx.artifacts, ctx.outputPath);
    }
    if (fs.existsSync(files.arrow)) {
      arrowIpcToParquet(files.arrow, ctx.outputPath);
      return await describeParquet(conn, ctx.artifacts, ctx.outputPath);
    }
    if (fs.existsSync(files.rows)) {
      await conn.run(`COPY (SELECT * FROM read_json_auto(${sqlLiteral(files.rows)}, format = 'newline_delimited')) TO ${sqlLiteral(ctx.outputPath)} (FORMAT PARQUET)`);
      return await describeParquet(conn, ctx.artifacts, ctx.outputPath);
    }
  } finally {
    conn.closeSync();
  }
  if (fs.existsSync(files.value)) return { kind: 'value', value: JSON.parse(fs.readFileSync(files.value, 'utf8')) as unknown };
  return { kind: 'none' };
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function runPython(ctx: ToolContext, args: string[], cwd: string, secrets: Record<string, string>, timeLimitMs: number): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', HOME: cwd, LANG: 'C.UTF-8' };
    for (const [name, value] of Object.entries(secrets)) env[`NOETL_CREDENTIAL_${name.toUpperCase()}`] = value;
    const child = spawn(ctx.python, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    const keep = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      if (out[stream].length < OUTPUT_LIMIT) out[stream] += chunk.toString('utf8').slice(0, OUTPUT_LIMIT - out[stream].length);
      ctx.heartbeat();
    };
    child.stdout.on('data', keep('stdout'));
    child.stderr.on('data', keep('stderr'));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeLimitMs);
    const onAbort = (): void => void child.kill('SIGKILL');
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new NoetlError('E_TOOL_FAILED', `cannot start ${ctx.python}: ${e.message} (set NOETL_PYTHON to a python3 the workers have)`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
      if (ctx.signal.aborted) reject(ctx.signal.reason as Error);
      else resolve({ code, signal, ...out, timedOut });
    });
  });
}

function lastLines(text: string, n: number): string {
  const lines = text.trimEnd().split('\n');
  return lines.slice(-n).join('\n') || '(no output on stderr)';
}
