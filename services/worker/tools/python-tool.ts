/**
 * `python`: a script run by python3 in a subprocess, with a time and a memory
 * limit, in a sandbox of its own (python/sandbox.ts): it sees its inputs, its
 * own folder and the credentials its step names, nothing else of the worker,
 * and no network unless the step says `network: true`. Inputs are table
 * references handed over as Parquet paths (read in place; `input_format:
 * jsonl` adds a JSON Lines copy for a python without pyarrow). The script writes rows (`noetl.write_rows`, or Parquet itself at
 * `noetl.output_parquet`) for a table result, or `noetl.result(value)` for a
 * value (or Arrow IPC at `noetl.output_arrow`). Its stdout and stderr go into the step's events, secrets redacted.
 *
 *   tool: { kind: python, inputs: { scores: "{{ results.score }}" }, input_format: jsonl,
 *           time_limit: 60s, memory_limit_mb: 512, credentials: [api_key], network: true,
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
import { pythonSandbox, type JailView, type PythonSandbox, type SpawnPlan } from './python/sandbox.ts';
import { templateScope, type Tool, type ToolContext } from './tool.ts';

interface PythonSpec {
  script?: unknown;
  inputs?: Record<string, unknown>;
  input_format?: 'parquet' | 'jsonl';
  time_limit?: string | number;
  memory_limit_mb?: number;
  credentials?: string[];
  network?: unknown;
}

/** An input as the script sees it. */
interface InputEntry {
  path: string;
  format: 'parquet';
  rows: number | undefined;
  schema: unknown;
  path_jsonl?: string;
}

const RUNNER = path.join(import.meta.dirname, 'python', 'runner.py');
const RUNNER_NAME = 'runner.py';
/** Captured output kept per stream; the rest is cut (the events stay small). */
const OUTPUT_LIMIT = 16 * 1024;
const MEMORY_EXIT = 86;

export const pythonTool: Tool = {
  kind: 'python',
  async run(ctx) {
    const spec = ctx.command.tool as PythonSpec;
    const step = ctx.command.step;
    if (typeof spec.script !== 'string' || spec.script.trim() === '') throw new NoetlError('E_PLAYBOOK_INVALID', `step "${step}": tool python needs a non-empty "script"`);
    if (spec.network !== undefined && typeof spec.network !== 'boolean') {
      throw new NoetlError('E_PLAYBOOK_INVALID', `step "${step}": tool python's "network" must be true or false`);
    }
    const sandbox = await pythonSandbox(ctx.python, ctx.pythonSandbox);
    const dir = path.join(path.dirname(ctx.outputPath), 'python');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    try {
      const secrets = Object.fromEntries((spec.credentials ?? []).map((name) => [name, ctx.credential(name)]));
      const files = stepFiles(dir);
      fs.writeFileSync(files.script, spec.script);
      const timeLimitMs = parseDuration(spec.time_limit) ?? 300_000;
      const memoryMb = spec.memory_limit_mb ?? 1024;
      const inputs = await inputsOf(ctx, spec, dir);
      const readOnly = { [RUNNER_NAME]: RUNNER, ...Object.fromEntries(Object.entries(inputs).map(([name, input]) => [inputName(name), input.path])) };
      const jail = { stepDir: dir, readOnly, network: spec.network === true, memoryBytes: memoryMb * 1024 * 1024 };
      // The context names every path as the script sees it: under /noetl in the sandbox.
      const seen = sandbox.view(jail);
      const seenFiles = stepFiles(seen.stepDir);
      fs.writeFileSync(
        files.context,
        JSON.stringify({
          script_path: seenFiles.script,
          workload: ctx.command.scope.workload,
          execution_id: ctx.command.executionId,
          attempt: ctx.command.attempt,
          inputs: inputsAsSeen(inputs, seen),
          output_jsonl: seenFiles.rows,
          output_parquet: seenFiles.parquet,
          output_arrow: seenFiles.arrow,
          result_json: seenFiles.value,
          memory_limit_bytes: memoryMb * 1024 * 1024,
        }),
      );
      sandbox.adopt(dir);
      const run = await runPython(ctx, sandbox.command(jail, [seen.file(RUNNER_NAME), seenFiles.context]), dir, secrets, timeLimitMs);
      const hide = Object.values(secrets).concat(ctx.secrets);
      ctx.output.stdout = redact(run.stdout, hide);
      ctx.output.stderr = redact(run.stderr, hide);
      if (run.timedOut) throw new NoetlError('E_TOOL_LIMIT', `step "${step}": the python script ran longer than its time limit of ${timeLimitMs} ms and was stopped`);
      if (run.code === MEMORY_EXIT) throw new NoetlError('E_TOOL_LIMIT', `step "${step}": the python script went over its memory limit of ${memoryMb} MiB`);
      if (run.code !== 0) throw new NoetlError('E_TOOL_FAILED', `step "${step}": the python script exited with ${run.code ?? run.signal}: ${lastLines(ctx.output.stderr, 6)}`);
      return await resultOf(ctx, files, sandbox);
    } finally {
      // What the script left (its inputs as JSON Lines, rows it wrote, anything it printed to files) goes with it.
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

/** The files of a step's folder, under the host's path or the one the script sees. */
function stepFiles(dir: string): { script: string; context: string; rows: string; value: string; parquet: string; arrow: string } {
  const at = (name: string): string => path.posix.join(dir, name);
  return { script: at('script.py'), context: at('context.json'), rows: at('output.jsonl'), value: at('result.json'), parquet: at('output.parquet'), arrow: at('output.arrow') };
}

const inputName = (name: string): string => `inputs/${name}.parquet`;

/** The inputs with the paths the script sees. */
function inputsAsSeen(inputs: Record<string, InputEntry>, seen: JailView): Record<string, InputEntry> {
  return Object.fromEntries(
    Object.entries(inputs).map(([name, input]) => {
      const jsonl = input.path_jsonl === undefined ? {} : { path_jsonl: path.posix.join(seen.stepDir, path.basename(input.path_jsonl)) };
      return [name, { ...input, path: seen.file(inputName(name)), ...jsonl }];
    }),
  );
}

/** Each input as the worker sees it: the Parquet path and what is in it; with `input_format: jsonl`, also a JSON Lines copy. */
async function inputsOf(ctx: ToolContext, spec: PythonSpec, dir: string): Promise<Record<string, InputEntry>> {
  const out: Record<string, InputEntry> = {};
  for (const [name, raw] of Object.entries(spec.inputs ?? {})) {
    // The name becomes part of a file name in the step's folder: never a path.
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) {
      throw new NoetlError('E_PLAYBOOK_INVALID', `step "${ctx.command.step}": python input name ${JSON.stringify(name)} may hold only letters, digits, "_", "-" and "."`);
    }
    const ref = evaluateValue(raw, templateScope(ctx.command)) as Partial<TableRef> | null;
    if (ref?.kind !== 'table' || typeof ref.uri !== 'string') {
      throw new NoetlError('E_PLAYBOOK_INVALID', `step "${ctx.command.step}": python input "${name}" is not a table reference (give e.g. "{{ results.<step> }}" of a step with a table)`);
    }
    const file = ctx.artifacts.resolve(ref.uri);
    const entry: InputEntry = { path: file, format: 'parquet', rows: ref.rows, schema: ref.schema };
    if (spec.input_format === 'jsonl') {
      entry.path_jsonl = path.join(dir, `input-${name}.jsonl`);
      const conn = await ctx.duckdb();
      try {
        await conn.run(`COPY (SELECT * FROM read_parquet(${sqlLiteral(file)})) TO ${sqlLiteral(entry.path_jsonl)} (FORMAT JSON)`);
      } finally {
        conn.closeSync();
      }
    }
    out[name] = entry;
  }
  return out;
}

/** A table if the script wrote rows or Parquet, else its value, else nothing. */
async function resultOf(ctx: ToolContext, files: { rows: string; value: string; parquet: string; arrow: string }, sandbox: PythonSandbox): Promise<StepResult> {
  const step = ctx.command.step;
  const conn = await ctx.duckdb();
  try {
    if (leftByScript(step, files.parquet)) {
      fs.renameSync(files.parquet, ctx.outputPath);
      sandbox.reclaim(ctx.outputPath);
      return await describeParquet(conn, ctx.artifacts, ctx.outputPath);
    }
    if (leftByScript(step, files.arrow)) {
      arrowIpcToParquet(files.arrow, ctx.outputPath);
      return await describeParquet(conn, ctx.artifacts, ctx.outputPath);
    }
    if (leftByScript(step, files.rows)) {
      await conn.run(`COPY (SELECT * FROM read_json_auto(${sqlLiteral(files.rows)}, format = 'newline_delimited')) TO ${sqlLiteral(ctx.outputPath)} (FORMAT PARQUET)`);
      return await describeParquet(conn, ctx.artifacts, ctx.outputPath);
    }
  } finally {
    conn.closeSync();
  }
  if (leftByScript(step, files.value)) return { kind: 'value', value: JSON.parse(fs.readFileSync(files.value, 'utf8')) as unknown };
  return { kind: 'none' };
}

/**
 * Whether the script left this output: only a regular file of its own counts.
 * A link would make the worker read, and publish, a file the script cannot
 * (another domain's artifact, the worker's own environment).
 */
function leftByScript(step: string, file: string): boolean {
  const stat = fs.lstatSync(file, { throwIfNoEntry: false });
  if (stat === undefined) return false;
  if (stat.isFile() && stat.nlink === 1) return true;
  const what = stat.isSymbolicLink() ? 'a symbolic link' : stat.isFile() ? 'a hard link' : 'something other than a file';
  throw new NoetlError('E_ARTIFACT_OUTSIDE_ROOT', `step "${step}": the script left ${path.basename(file)} as ${what}; only a file of its own is taken as its output`);
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function runPython(ctx: ToolContext, plan: SpawnPlan, cwd: string, secrets: Record<string, string>, timeLimitMs: number): Promise<Finished> {
  return new Promise((resolve, reject) => {
    // A process group of its own, so that stopping it stops whatever it started (unsandboxed, too).
    const child = spawn(plan.file, plan.args, { cwd, env: plan.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const kill = (): void => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    // The step's credentials go through a pipe: never on a command line, in the environment or in a file.
    child.stdin.on('error', () => undefined);
    child.stdin.end(JSON.stringify(secrets));
    const out = { stdout: '', stderr: '' };
    const keep = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      if (out[stream].length < OUTPUT_LIMIT) out[stream] += chunk.toString('utf8').slice(0, OUTPUT_LIMIT - out[stream].length);
      ctx.heartbeat();
    };
    child.stdout.on('data', keep('stdout'));
    child.stderr.on('data', keep('stderr'));
    let timedOut = false;
    // Killing bwrap kills its sandbox: every process in it dies with it (--die-with-parent, its own PID namespace).
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeLimitMs);
    const onAbort = (): void => kill();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      clearTimeout(timer);
      const hint = ctx.pythonSandbox === 'none' ? ' (set NOETL_PYTHON to a python3 the workers have)' : '';
      reject(new NoetlError('E_TOOL_FAILED', `cannot start ${plan.file}: ${e.message}${hint}`, { cause: e }));
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
