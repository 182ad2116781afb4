/** The python tool with the real python3: tables in and out by reference, values, limits, captured output with secrets redacted. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { NoetlError } from '../../common/errors.ts';
import type { StepResult, TableRef } from '../../platform/bus/messages.ts';
import path from 'node:path';
import { parquetToArrowIpc } from '../../services/worker/artifacts/arrow.ts';
import { toolBench, type ToolBench } from '../helpers/tool-context.ts';
import { tempDir } from '../helpers/workspace.ts';

describe('python tool', () => {
  let bench: ToolBench;
  let numbers: TableRef;

  before(async () => {
    bench = await toolBench();
    const made = await bench.run({ kind: 'duckdb', sql: 'SELECT i AS n, i % 3 AS k FROM range(1000) t(i)' });
    numbers = made.result as TableRef;
  });
  after(() => bench.close());

  it('reads an input and writes a table, published as Parquet by reference', async () => {
    const { result } = await bench.run(
      {
        kind: 'python',
        inputs: { numbers: '{{ results.numbers }}' },
        input_format: 'jsonl',
        script: ['import noetl', "assert noetl.inputs['numbers']['path'].endswith('.parquet')", "noetl.write_rows({'n': r['n'], 'doubled': r['n'] * 2, 'tag': noetl.workload['tag']} for r in noetl.read_rows('numbers') if r['k'] == 0)"].join('\n'),
      },
      { workload: { tag: 'x' }, results: { numbers } },
    );
    assert.equal(result.kind, 'table');
    const t = result;
    assert.equal(t.rows, 334);
    assert.deepEqual(t.schema.map((c) => c.name), ['n', 'doubled', 'tag']);
    const conn = await bench.duck.connect();
    const r = await conn.runAndReadAll(`SELECT sum(doubled)::BIGINT AS s FROM read_parquet('${bench.store.resolve(t.uri)}')`);
    conn.closeSync();
    assert.equal(Number(r.getRowObjects()[0]!.s), 2 * [...Array(1000).keys()].filter((i) => i % 3 === 0).reduce((a, b) => a + b, 0));
  });

  it('returns a value, and captures stdout and stderr with secrets redacted', async () => {
    const { result, output } = await bench.run(
      { kind: 'python', credentials: ['api_key'], script: "import noetl, sys\nkey = noetl.credential('api_key')\nprint('using', key)\nprint('warn', key, file=sys.stderr)\nnoetl.result({'rows': noetl.inputs == {}, 'len': len(key)})" },
      { secrets: { api_key: 's3cr3t-value' } },
    );
    assert.deepEqual(result, { kind: 'value', value: { rows: true, len: 12 } });
    assert.match(output.stdout!, /using \*+/);
    assert.doesNotMatch(output.stdout! + output.stderr!, /s3cr3t-value/);
    assert.match(output.stderr!, /warn/);
  });

  it('an Arrow IPC file the script leaves at noetl.output_arrow becomes the Parquet table', async () => {
    const ipc = path.join(tempDir(), 'made.arrow');
    parquetToArrowIpc(bench.store.resolve(numbers.uri), ipc);
    // The script sees no file outside its step (it is sandboxed): the IPC bytes travel in the script itself.
    const bytes = fs.readFileSync(ipc).toString('base64');
    const script = `import base64, noetl\nopen(noetl.output_arrow, 'wb').write(base64.b64decode(${JSON.stringify(bytes)}))`;
    const { result } = await bench.run({ kind: 'python', script });
    assert.equal((result as TableRef).rows, 1000);
    assert.deepEqual((result as TableRef).schema, numbers.schema);
  });

  it('a Parquet file the script leaves at noetl.output_parquet becomes the table, the worker\'s own file', async () => {
    const script = "import noetl, os, shutil\nshutil.copy(noetl.inputs['numbers']['path'], noetl.output_parquet)\nos.chmod(noetl.output_parquet, 0o6777)";
    const { result } = await bench.run({ kind: 'python', inputs: { numbers: '{{ results.numbers }}' }, script }, { results: { numbers } });
    assert.equal(result.kind, 'table');
    assert.equal(result.rows, 1000);
    assert.deepEqual(result.schema, numbers.schema);
    const stat = fs.statSync(bench.store.resolve(result.uri));
    assert.equal(stat.uid, process.getuid!(), 'not the sandbox user\'s');
    assert.equal(stat.mode & 0o7777, 0o644, 'neither writable by others nor setuid');
  });

  it('fails with the end of stderr when the script raises', async () => {
    await assert.rejects(bench.run({ kind: 'python', script: "raise ValueError('bad row 7')" }), (e: unknown) => e instanceof NoetlError && e.code === 'E_TOOL_FAILED' && /ValueError: bad row 7/.test(e.message));
  });

  it('stops a script over its time limit with E_TOOL_LIMIT', async () => {
    const started = Date.now();
    await assert.rejects(bench.run({ kind: 'python', time_limit: '300ms', script: 'import time\ntime.sleep(30)' }), (e: unknown) => e instanceof NoetlError && e.code === 'E_TOOL_LIMIT' && /time limit of 300 ms/.test(e.message));
    assert.ok(Date.now() - started < 10_000, 'killed, not waited for');
  });

  it('stops a script over its memory limit with E_TOOL_LIMIT', async () => {
    await assert.rejects(bench.run({ kind: 'python', memory_limit_mb: 200, script: "x = bytearray(1024 * 1024 * 1024)\nprint('allocated')" }), (e: unknown) => e instanceof NoetlError && e.code === 'E_TOOL_LIMIT' && /memory limit of 200 MiB/.test(e.message));
  });

  it('a cancelled step kills the script', async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(new NoetlError('E_CANCELLED', 'stop')), 200);
    await assert.rejects(bench.run({ kind: 'python', script: 'import time\ntime.sleep(30)' }, { signal: abort.signal }), (e: unknown) => e instanceof NoetlError && e.code === 'E_CANCELLED');
  });

  it('refuses an input that is not a table reference, naming it', async () => {
    const notTable: StepResult = { kind: 'value', value: 3 };
    await assert.rejects(bench.run({ kind: 'python', inputs: { x: '{{ results.v }}' }, script: 'pass' }, { results: { v: notTable } }), (e: unknown) => e instanceof NoetlError && /python input "x" is not a table reference/.test(e.message));
  });
});
