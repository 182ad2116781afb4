/** A partitioned product: each run is checked on the partitions it wrote, and publishing replaces just those. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../platform/index.ts';
import { buildPlaybook } from '../../cli/commands/build.ts';
import { openRuntime, type Runtime } from '../../cli/runtime.ts';
import { REPO_ROOT, workspace } from '../helpers/workspace.ts';

describe('partition-scoped checks and partition publishing', () => {
  const ws = workspace();
  let rt: Runtime;
  const lines: string[] = [];

  before(async () => {
    fs.cpSync(path.join(REPO_ROOT, 'tests/fixtures/domains/sales'), path.join(ws.domains, 'sales'), { recursive: true });
    rt = await openRuntime(loadConfig({ NOETL_HOME: ws.home, NOETL_DOMAINS_DIR: ws.domains, NOETL_LOG_LEVEL: 'error' }));
  });
  after(async () => {
    await rt?.close();
    ws.cleanup();
  });

  async function current(): Promise<{ day: number; run: number; n: number }[]> {
    const row = await rt.database.db
      .selectFrom('products as p')
      .innerJoin('materializations as m', 'm.id', 'p.current_materialization_id')
      .select('m.artifact_uri')
      .where('p.id', '=', 'sales.daily_orders')
      .executeTakeFirstOrThrow();
    const duck = await DuckDBInstance.create(':memory:');
    const conn = await duck.connect();
    try {
      const r = await conn.runAndReadAll(`SELECT day, run, count(*)::INTEGER AS n FROM read_parquet('${fileURLToPath(row.artifact_uri)}') GROUP BY ALL ORDER BY day`);
      return r.getRowObjectsJson() as { day: number; run: number; n: number }[];
    } finally {
      conn.closeSync();
      duck.closeSync();
    }
  }

  const run = (workload: Record<string, unknown>) => buildPlaybook(rt, 'sales/load_days', workload, (l) => lines.push(l));

  it('publishes the first partitions as they are', async () => {
    assert.equal((await run({ days: [1, 2], run: 1 })).state.status, 'completed');
    assert.deepEqual(await current(), [{ day: 1, run: 1, n: 100 }, { day: 2, run: 1, n: 100 }]);
  });

  it('checks only the partitions a run wrote, and replaces just those', async () => {
    // 200 rows written, 300 in the product afterwards: the 1..250 row-count rule holds for what the run wrote.
    const r = await run({ days: [2, 3], run: 2 });
    assert.equal(r.state.status, 'completed', r.state.error?.message);
    assert.deepEqual(await current(), [{ day: 1, run: 1, n: 100 }, { day: 2, run: 2, n: 100 }, { day: 3, run: 2, n: 100 }]);
    assert.ok(lines.some((l) => /gate sales\.daily_orders@1\.0\.0: passed, .* on partitions day=2 day=3; published/.test(l)), lines.join('\n'));
  });

  it('a failing partition leaves the current version untouched', async () => {
    const r = await run({ days: [4], run: 3, bad: true });
    assert.equal(r.state.status, 'failed');
    assert.match(r.state.error!.message, /sales\.daily_orders: check amount\.range/);
    assert.deepEqual((await current()).map((x) => x.day), [1, 2, 3]);
  });
});
