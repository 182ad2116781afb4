/**
 * A table written by a step that was handed credentials is searched for them
 * before anything else reads it (the gate, later steps, consumers): every text
 * column, and every list, struct or map as text, for every form of every
 * credential the step used (common/secret-needles.ts), in one scan. Hits in a
 * text column are replaced by `***` and the file is rewritten, so its
 * reference (size, checksum) is the rewritten file's; a hit inside a nested
 * column, which cannot be rewritten as text, fails the step. A step given no
 * credential is not scanned: it cannot have one to write.
 */
import fs from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { NoetlError } from '../../common/errors.ts';
import { secretNeedles } from '../../common/secret-needles.ts';
import { quoteIdent, sqlLiteral } from '../../contracts/index.ts';
import type { ArtifactStore, TableRef } from '../../platform/index.ts';
import { describeParquet } from './tools/index.ts';

const NESTED = /\[\]|\[\d+\]|^(STRUCT|MAP|UNION|JSON)\b/;

export async function redactTable(
  conn: DuckDBConnection,
  store: ArtifactStore,
  ref: TableRef,
  secrets: Iterable<string>,
  step: string,
): Promise<TableRef> {
  const needles = secretNeedles(secrets);
  const columns = ref.schema.filter((c) => c.type === 'VARCHAR' || NESTED.test(c.type));
  if (needles.length === 0 || columns.length === 0) return ref;
  const file = store.resolve(ref.uri);
  const asText = (c: { name: string; type: string }): string =>
    c.type === 'VARCHAR' ? quoteIdent(c.name) : `CAST(${quoteIdent(c.name)} AS VARCHAR)`;
  const holds = (expr: string): string => needles.map((_, i) => `contains(${expr}, $${i + 1})`).join(' OR ');
  const counts = columns.map((c, i) => `count_if(${holds(asText(c))}) AS c${i}`).join(', ');
  const found =
    (await conn.runAndReadAll(`SELECT ${counts} FROM read_parquet(${sqlLiteral(file)})`, needles)).getRows()[0] ?? [];
  const hit = columns.filter((_, i) => Number(found[i] ?? 0) > 0);
  if (hit.length === 0) return ref;
  const nested = hit.find((c) => c.type !== 'VARCHAR');
  if (nested) {
    throw new NoetlError(
      'E_SECRET_IN_OUTPUT',
      `step "${step}" wrote a credential it was given into column "${nested.name}" (${nested.type}) of its table; the table is not kept`,
    );
  }
  const pattern = [...needles]
    .sort((a, b) => b.length - a.length)
    .map(escapeRegex)
    .join('|');
  const replaced = hit
    .map((c) => `regexp_replace(${quoteIdent(c.name)}, $1, '***', 'g') AS ${quoteIdent(c.name)}`)
    .join(', ');
  const rewritten = `${file}.redacted.parquet`;
  await conn.run(
    `COPY (SELECT * REPLACE (${replaced}) FROM read_parquet(${sqlLiteral(file)})) TO ${sqlLiteral(rewritten)} (FORMAT PARQUET)`,
    [pattern],
  );
  fs.renameSync(rewritten, file);
  return describeParquet(conn, store, file);
}

/** A literal for RE2 (DuckDB's regular expressions). */
function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}
