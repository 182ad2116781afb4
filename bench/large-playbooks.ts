/**
 * Checking and compiling very large playbooks: chains, fan-outs joined again
 * and chains closed by a retry jump, of 1,000 to 100,000 steps (each step
 * reading an earlier result, so the template checker asks "can X run before
 * Y?" once per step). Each case runs in a process of its own, so its peak
 * memory is its own. Baseline: parsing the same YAML alone, measured in the
 * same process: what is left is noetl's (schema, model, checks, net).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseYaml } from '../common/yaml-source.ts';
import { compileNet, parsePlaybook } from '../services/orchestrator/index.ts';
import { LARGE_SHAPES, largePlaybook, type LargeShape } from '../tests/helpers/large-playbooks.ts';
import { report, type BenchRow } from './report.ts';

interface Measured {
  megabytes: number;
  yamlMs: number;
  checkMs: number;
  compileMs: number;
  peakMb: number;
  diagnostics: number;
}

/** One case, in this process: what the child prints. */
function measure(shape: LargeShape, steps: number): Measured {
  // Warm both paths up on a small playbook first, so that neither pays for compiling the code.
  parsePlaybook(largePlaybook(shape, 500), 'warm.yaml', 'bench', { toolKinds: new Set(['noop']), products: new Set() });
  const text = largePlaybook(shape, steps);
  let started = performance.now();
  parseYaml(text, 'large.yaml');
  const yamlMs = performance.now() - started;
  started = performance.now();
  const result = parsePlaybook(text, 'large.yaml', 'bench', { toolKinds: new Set(['noop']), products: new Set() });
  const checkMs = performance.now() - started;
  started = performance.now();
  if (result.playbook) compileNet(result.playbook);
  const compileMs = performance.now() - started;
  return { megabytes: text.length / 1e6, yamlMs, checkMs, compileMs, peakMb: process.resourceUsage().maxRSS / 1024, diagnostics: result.diagnostics.length };
}

export function largePlaybooksBench(sizes: readonly number[] = [1_000, 10_000, 100_000]): void {
  const rows: BenchRow[] = [];
  for (const shape of LARGE_SHAPES) {
    for (const steps of sizes) {
      const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), shape, String(steps)], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (child.status !== 0) throw new Error(`bench large-playbooks ${shape} ${steps}: ${child.stderr}`);
      const m = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Measured;
      if (m.diagnostics !== 0) throw new Error(`bench large-playbooks ${shape} ${steps}: ${m.diagnostics} diagnostics`);
      rows.push({
        case: `${shape}, ${steps.toLocaleString('en-US')} steps`,
        MB: Number(m.megabytes.toFixed(1)),
        'YAML alone ms': Math.round(m.yamlMs),
        'check ms': Math.round(m.checkMs),
        '× YAML alone': m.checkMs / m.yamlMs,
        'compile ms': Math.round(m.compileMs),
        'peak RSS MB': Math.round(m.peakMb),
      });
    }
  }
  report('large-playbooks', 'parse + check (parsePlaybook) and compileNet of generated playbooks, each case in its own process', rows);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [shape, steps] = process.argv.slice(2);
  if (shape !== undefined && steps !== undefined) process.stdout.write(`${JSON.stringify(measure(shape as LargeShape, Number(steps)))}\n`);
  else largePlaybooksBench();
}
