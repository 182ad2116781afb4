/**
 * Python sandbox: what the bubblewrap sandbox costs a python step. The same
 * trivial script (`noetl.result(1)`) through the python tool with
 * NOETL_PYTHON_SANDBOX=bwrap and =none, beside the floor of any python step
 * (the interpreter starting and exiting: `python -c pass`) and bubblewrap
 * around `python -c pass` with no noetl at all. The sandbox runs the real
 * interpreter behind NOETL_PYTHON; unsandboxed, the tool runs NOETL_PYTHON as
 * given (here `python3`, a pyenv shim: a shell script), so the unsandboxed step
 * is measured both ways. Cases take turns run by run, so drift hits them alike.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { createLogger, LocalArtifactStore, type PythonSandboxMode, type StepCommand } from '../platform/index.ts';
import { openSandbox } from '../services/worker/tools/python/sandbox.ts';
import { TOOLS, type ToolContext } from '../services/worker/tools/index.ts';
import { report } from './report.ts';

const PYTHON = 'python3';
const SCRIPT = 'import noetl\nnoetl.result(1)';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

function runProcess(file: string, args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${file} exited with ${code}`))));
  });
}

export async function pythonSandboxBench(runs: number): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'noetl-bench-python-'));
  const store = new LocalArtifactStore(root);
  const duckdb = await DuckDBInstance.create(':memory:');
  const sandboxed = await openSandbox(PYTHON, 'bwrap');
  const real = await realInterpreter();
  let step = 0;
  const toolStep = (pythonSandbox: PythonSandboxMode, python: string) => async (): Promise<void> => {
    const name = `s${++step}`;
    const command = { commandId: name, executionId: 'bench', playbook: 'bench/python', domain: 'bench', step: name, attempt: 1, tool: { kind: 'python', script: SCRIPT }, scope: { workload: {}, execution_id: 'bench', results: {}, vars: {} }, consumes: {}, upstream: [], produces: undefined } as unknown as StepCommand;
    const ctx: ToolContext = {
      signal: new AbortController().signal,
      heartbeat: () => undefined,
      log: createLogger({ level: 'error' }),
      command,
      artifacts: store,
      duckdb: () => duckdb.connect(),
      outputPath: store.stagingPath('bench', name, 1),
      lineage: {},
      output: {},
      secrets: [],
      python,
      pythonSandbox,
      httpAllow: [],
      credential: () => {
        throw new Error('no credentials in this bench');
      },
    };
    const result = await TOOLS.get('python')!.run(ctx);
    if (result.kind !== 'value' || result.value !== 1) throw new Error(`the python step returned ${JSON.stringify(result)}`);
  };
  const bwrapOnly = async (): Promise<void> => {
    const dir = fs.mkdtempSync(path.join(root, 'bare-'));
    sandboxed.adopt(dir);
    const plan = sandboxed.command({ stepDir: dir, readOnly: {}, network: false, memoryBytes: 1 << 30 }, ['-c', 'pass']);
    await runProcess(plan.file, plan.args, plan.env);
  };
  const hostEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root, LANG: 'C.UTF-8' };
  // The sandbox always runs the real interpreter; unsandboxed, the tool runs NOETL_PYTHON as given.
  const cases: { case: string; run: () => Promise<void> }[] = [
    { case: 'floor: python -c pass (the real interpreter)', run: () => runProcess(real, ['-c', 'pass'], hostEnv) },
    { case: 'bwrap around python -c pass, no noetl', run: bwrapOnly },
    { case: 'python step, sandbox none, NOETL_PYTHON=<the real interpreter>', run: toolStep('none', real) },
    { case: 'python step, sandbox bwrap (the default)', run: toolStep('bwrap', PYTHON) },
    { case: `${PYTHON} -c pass (NOETL_PYTHON as configured here)`, run: () => runProcess(PYTHON, ['-c', 'pass'], hostEnv) },
    { case: `python step, sandbox none, NOETL_PYTHON=${PYTHON}`, run: toolStep('none', PYTHON) },
  ];
  process.stdout.write(`python sandbox: ${runs} runs of ${cases.length} cases…\n`);
  try {
    const times = cases.map(() => [] as number[]);
    for (let run = -2; run < runs; run++) {
      for (const [i, c] of cases.entries()) {
        const t0 = performance.now();
        await c.run();
        if (run >= 0) times[i]!.push(performance.now() - t0);
      }
    }
    const stats = times.map((t) => {
      const sorted = [...t].sort((a, b) => a - b);
      return { p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95) };
    });
    const floor = stats[0]!.p50;
    const unsandboxed = stats[2]!.p50;
    report(
      'python-sandbox',
      `a trivial python step through the python tool, sandboxed and not, beside the interpreter's own start (${runs} runs each, after 2 warm-ups)`,
      cases.map((c, i) => ({ case: c.case, 'p50 ms': stats[i]!.p50, 'p95 ms': stats[i]!.p95, '× floor': stats[i]!.p50 / floor, '+ms vs none, same python': stats[i]!.p50 - unsandboxed })),
      { runs, python: PYTHON, interpreter: real, workerIsRoot: process.getuid?.() === 0 },
    );
  } finally {
    duckdb.closeSync();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** The interpreter behind the configured python3 (a pyenv shim is a shell script). */
async function realInterpreter(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', 'import sys; print(sys.executable)'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out.trim()));
  });
}
