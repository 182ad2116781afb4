/**
 * The range of an integer column's values in a Parquet file, read from the
 * file's row-group statistics (its footer, no scan of the data). With it the
 * gate counts a key's distinct values with a bitmap instead of a hash table.
 * A column qualifies only when every row group has both bounds; a file whose
 * statistics lie makes the bitmap query fail, and the gate then counts the
 * ordinary way.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlLiteral, type KeyRanges } from '../../../contracts/index.ts';
import type { ColumnSchema } from '../../../platform/bus/messages.ts';

const INTEGER_TYPES = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT']);

export async function keyRanges(conn: DuckDBConnection, file: string, schema: readonly ColumnSchema[], columns: readonly string[]): Promise<KeyRanges> {
  const integers = columns.filter((c) => INTEGER_TYPES.has(schema.find((s) => s.name === c)?.type.toUpperCase() ?? ''));
  if (integers.length === 0) return {};
  const rows = (
    await conn.runAndReadAll(
      `SELECT path_in_schema AS name,
              min(TRY_CAST(stats_min_value AS HUGEINT))::VARCHAR AS lo,
              max(TRY_CAST(stats_max_value AS HUGEINT))::VARCHAR AS hi,
              bool_and(TRY_CAST(stats_min_value AS HUGEINT) IS NOT NULL AND TRY_CAST(stats_max_value AS HUGEINT) IS NOT NULL) AS complete
       FROM parquet_metadata(${sqlLiteral(file)})
       WHERE path_in_schema IN (${integers.map(sqlLiteral).join(', ')})
       GROUP BY path_in_schema`,
    )
  ).getRowObjectsJson() as { name: string; lo: string | null; hi: string | null; complete: boolean }[];
  const out: KeyRanges = {};
  for (const r of rows) if (r.complete && r.lo !== null && r.hi !== null) out[r.name] = { min: BigInt(r.lo), max: BigInt(r.hi) };
  return out;
}
