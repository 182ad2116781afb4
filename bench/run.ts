/**
 * `npm run bench [-- --rows N --runs N --steps N --passing-rows N --python-runs N --duckdb-runs N --only NAME]`: every benchmark, each printing a table
 * with its baseline measured in the same run and writing JSON to bench/results/.
 */
import { parseArgs } from 'node:util';
import { dataPassingBench } from './data-passing.ts';
import { duckdbSandboxBench } from './duckdb-sandbox.ts';
import { gateFusionBench } from './gate-fusion.ts';
import { largePlaybooksBench } from './large-playbooks.ts';
import { lineageBench } from './lineage.ts';
import { orchestrationBench } from './orchestration.ts';
import { pythonSandboxBench } from './python-sandbox.ts';
import { redactionBench } from './redaction.ts';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '10000000' }, 'passing-rows': { type: 'string', default: '5000000' }, runs: { type: 'string', default: '3' }, steps: { type: 'string', default: '1000' }, 'python-runs': { type: 'string', default: '40' }, 'duckdb-runs': { type: 'string', default: '100' }, only: { type: 'string' } } });
const rows = Number(values.rows);
const runs = Number(values.runs);
if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(runs) || runs < 1) {
  process.stderr.write('bench: --rows and --runs must be positive integers\n');
  process.exit(2);
}

const steps = Number(values.steps);
const only = values.only;
if (!only || only === 'gate-fusion') await gateFusionBench(rows, runs);
if (!only || only === 'orchestration') await orchestrationBench(steps);
if (!only || only === 'lineage') await lineageBench(100_000, 100);
if (!only || only === 'data-passing') await dataPassingBench(Number(values['passing-rows']));
if (!only || only === 'python-sandbox') await pythonSandboxBench(Number(values['python-runs']));
if (!only || only === 'duckdb-sandbox') await duckdbSandboxBench(Number(values['duckdb-runs']));
if (!only || only === 'redaction') redactionBench();
if (!only || only === 'large-playbooks') largePlaybooksBench();
