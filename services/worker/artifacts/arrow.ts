/**
 * Arrow IPC ↔ Parquet, for tools that need Arrow in memory (e.g. vectors for
 * Qdrant) or that are handed Arrow IPC: parquet-wasm reads and writes Parquet,
 * apache-arrow holds the table. A whole file is read into memory: meant for
 * what one tool call handles, not for tables that belong in DuckDB.
 */
import fs from 'node:fs';
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import * as parquet from 'parquet-wasm/node';
import { NoetlError } from '../../../common/errors.ts';

/** A Parquet file as an Arrow table. */
export function readParquetAsArrow(file: string): Table {
  // intoIPCStream hands the wasm table's memory over: nothing is left to free.
  return tableFromIPC(parquet.readParquet(read(file)).intoIPCStream());
}

/** Writes an Arrow table as Parquet. */
export function writeArrowAsParquet(table: Table, file: string): void {
  // writeParquet takes the wasm table over, as intoIPCStream does.
  fs.writeFileSync(file, parquet.writeParquet(parquet.Table.fromIPCStream(tableToIPC(table, 'stream'))));
}

/** Parquet → Arrow IPC (the stream format, or the file format). */
export function parquetToArrowIpc(parquetFile: string, ipcFile: string, format: 'stream' | 'file' = 'file'): void {
  fs.writeFileSync(ipcFile, tableToIPC(readParquetAsArrow(parquetFile), format));
}

/** Arrow IPC (stream or file format) → Parquet. */
export function arrowIpcToParquet(ipcFile: string, parquetFile: string): void {
  let table: Table;
  try {
    table = tableFromIPC(read(ipcFile));
  } catch (e) {
    throw new NoetlError('E_TOOL_FAILED', `${ipcFile} is not Arrow IPC: ${(e as Error).message}`, { cause: e });
  }
  writeArrowAsParquet(table, parquetFile);
}

function read(file: string): Uint8Array {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new NoetlError('E_ARTIFACT_NOT_FOUND', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
}
