/**
 * `npm run bench [-- --rows N --runs N]`: every benchmark, each printing a table
 * with its baseline measured in the same run and writing JSON to bench/results/.
 */
import { parseArgs } from 'node:util';
import { gateFusionBench } from './gate-fusion.ts';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '2000000' }, runs: { type: 'string', default: '5' } } });
const rows = Number(values.rows);
const runs = Number(values.runs);
if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(runs) || runs < 1) {
  process.stderr.write('bench: --rows and --runs must be positive integers\n');
  process.exit(2);
}

await gateFusionBench(rows, runs);
