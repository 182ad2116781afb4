/** Arrow IPC ↔ Parquet (parquet-wasm + apache-arrow), checked with DuckDB on real files: same rows, same types, both IPC formats. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { NoetlError } from '../../common/errors.ts';
import { arrowIpcToParquet, parquetToArrowIpc, readParquetAsArrow } from '../../services/worker/artifacts/arrow.ts';
import { tempDir } from '../helpers/workspace.ts';

describe('Arrow IPC and Parquet', () => {
  const dir = tempDir();
  const source = path.join(dir, 'source.parquet');
  let db: DuckDBInstance;
  let conn: DuckDBConnection;

  before(async () => {
    db = await DuckDBInstance.create(':memory:');
    conn = await db.connect();
    await conn.run(
      `COPY (SELECT i AS id, 'name ' || i AS name, CASE WHEN i % 7 = 0 THEN NULL ELSE i / 3 END AS ratio, [i::FLOAT, (i * 2)::FLOAT] AS vector,
                    DATE '2025-01-01' + (i % 365)::INTEGER AS day, i % 2 = 0 AS even FROM range(20000) t(i)) TO '${source}' (FORMAT PARQUET)`,
    );
  });
  after(() => {
    conn.closeSync();
    db.closeSync();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const differing = async (a: string, b: string): Promise<number> => {
    const r = await conn.runAndReadAll(`SELECT (SELECT count(*) FROM (SELECT * FROM '${a}' EXCEPT ALL SELECT * FROM '${b}')) + (SELECT count(*) FROM (SELECT * FROM '${b}' EXCEPT ALL SELECT * FROM '${a}')) AS n`);
    return Number(r.getRowObjectsJson()[0]!.n);
  };
  const types = async (f: string): Promise<string[]> => (await conn.runAndReadAll(`DESCRIBE SELECT * FROM '${f}'`)).getRowObjectsJson().map((r) => `${r.column_name as string} ${r.column_type as string}`);

  for (const format of ['file', 'stream'] as const) {
    it(`Parquet → Arrow IPC (${format}) → Parquet keeps every row and type`, async () => {
      const ipc = path.join(dir, `t.${format}.arrow`);
      const back = path.join(dir, `back.${format}.parquet`);
      parquetToArrowIpc(source, ipc, format);
      arrowIpcToParquet(ipc, back);
      assert.equal(await differing(source, back), 0);
      assert.deepEqual(await types(back), await types(source));
    });
  }

  it('reads Parquet as an Arrow table, with nulls and lists', () => {
    const t = readParquetAsArrow(source);
    assert.equal(t.numRows, 20000);
    assert.deepEqual(t.schema.fields.map((f) => f.name), ['id', 'name', 'ratio', 'vector', 'day', 'even']);
    assert.equal(t.getChild('ratio')!.get(7), null);
    assert.deepEqual([...(t.getChild('vector')!.get(3) as Iterable<number>)], [3, 6]);
  });

  it('a file that is not Arrow IPC, or a missing file, is a coded error', () => {
    const junk = path.join(dir, 'junk.arrow');
    fs.writeFileSync(junk, 'not arrow at all');
    assert.throws(() => arrowIpcToParquet(junk, path.join(dir, 'x.parquet')), (e: unknown) => e instanceof NoetlError && e.code === 'E_TOOL_FAILED');
    assert.throws(() => readParquetAsArrow(path.join(dir, 'missing.parquet')), (e: unknown) => e instanceof NoetlError && e.code === 'E_ARTIFACT_NOT_FOUND');
  });
});
