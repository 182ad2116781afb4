/**
 * Partitioned products. A run of a partitioned product writes whole partitions;
 * the gate checks those rows alone, and publishing replaces just those
 * partitions in the current version: the new version is the previous one less
 * the written partitions, plus the output.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdent, sqlLiteral } from '../../../contracts/index.ts';

const read = (file: string): string => `read_parquet(${sqlLiteral(file)})`;

/** The partition values present in an output. */
export async function writtenPartitions(conn: DuckDBConnection, file: string, columns: readonly string[]): Promise<Record<string, unknown>[]> {
  const cols = columns.map(quoteIdent).join(', ');
  const r = await conn.runAndReadAll(`SELECT DISTINCT ${cols} FROM ${read(file)} ORDER BY ${cols}`);
  return r.getRowObjectsJson();
}

/** Writes previous-minus-written-partitions plus the output to `target` as Parquet. */
export async function mergePartitions(conn: DuckDBConnection, previous: string, output: string, columns: readonly string[], target: string): Promise<void> {
  const cols = columns.map(quoteIdent).join(', ');
  await conn.run(
    `COPY (SELECT * FROM ${read(previous)} WHERE (${cols}) NOT IN (SELECT DISTINCT ${cols} FROM ${read(output)})
           UNION ALL BY NAME SELECT * FROM ${read(output)}) TO ${sqlLiteral(target)} (FORMAT PARQUET)`,
  );
}
