/**
 * DuckDB, one database per command. Each command gets a fresh in-memory
 * database that can read only the files it was handed (its inputs in the
 * artifact store) and write only in its own staging directory; external access
 * is off otherwise (no other files, no extensions, no network), and the
 * configuration is locked, so nothing a step runs can widen its access or leave
 * state behind for the next command. Creating a database costs ~10 ms here, so
 * a few fresh ones are kept warm; a warm one has never run anything.
 */
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { sqlLiteral } from '../../../contracts/index.ts';

/** What one command's DuckDB may touch. */
export interface DuckDbAccess {
  /** Files it may read. */
  read: string[];
  /** Directories it may read and write (its staging directory). */
  write: string[];
  /** Single files it may write outside those directories (e.g. a published version being merged). */
  writeFiles?: string[];
}

/** Settings of every sandboxed database, before access is narrowed and the configuration locked. */
const BASE_OPTIONS = {
  autoinstall_known_extensions: 'false',
  autoload_known_extensions: 'false',
  allow_community_extensions: 'false',
};

/** One command's database, as its tools see it. */
export interface CommandDatabase {
  connect: () => Promise<DuckDBConnection>;
  release: () => void;
}

export class DuckDbSandbox {
  private readonly ready: Promise<DuckDBInstance>[] = [];

  /** `keepWarm`: fresh databases kept ready (0 creates each on demand). */
  constructor(private readonly keepWarm = 2) {}

  /** Makes the warm databases ready, so the first commands do not wait for them. */
  async warm(): Promise<void> {
    this.refill();
    await Promise.all(this.ready.map((p) => p.catch(() => undefined)));
  }

  /**
   * A command's database, opened the first time a tool connects to it (most
   * commands never do): connect as often as the command needs, release once.
   */
  forCommand(access: DuckDbAccess): CommandDatabase {
    let opened: Promise<DuckDBInstance> | undefined;
    return {
      connect: async () => (await (opened ??= this.open(access))).connect(),
      release: () => {
        opened?.then(
          (db) => this.release(db),
          () => undefined,
        );
      },
    };
  }

  /** A fresh database that can touch only what `access` names; release it when the command is done. */
  async open(access: DuckDbAccess): Promise<DuckDBInstance> {
    const instance = await (this.ready.shift() ?? create());
    try {
      await lockDown(instance, access);
    } catch (e) {
      instance.closeSync();
      throw e;
    }
    return instance;
  }

  /** Closes a command's database and makes the next one ready, both off the hot path (creating one takes ~10 ms of this thread). */
  release(instance: DuckDBInstance): void {
    setImmediate(() => {
      instance.closeSync();
      this.refill();
    });
  }

  /** Drops the warm databases. */
  async close(): Promise<void> {
    const pending = this.ready.splice(0);
    for (const p of pending) (await p.catch(() => undefined))?.closeSync();
  }

  private refill(): void {
    while (this.ready.length < this.keepWarm) {
      const next = create();
      next.catch(() => undefined);
      this.ready.push(next);
    }
  }
}

function create(): Promise<DuckDBInstance> {
  return DuckDBInstance.create(':memory:', BASE_OPTIONS);
}

async function lockDown(instance: DuckDBInstance, access: DuckDbAccess): Promise<void> {
  const dirs = access.write.map((d) => (d.endsWith(path.sep) ? d : d + path.sep));
  const files = [...access.read, ...(access.writeFiles ?? [])];
  const conn = await instance.connect();
  try {
    const spill = access.write[0];
    if (spill !== undefined) await conn.run(`SET temp_directory = ${sqlLiteral(path.join(spill, '.duckdb-tmp'))}`);
    await conn.run(`SET allowed_directories = [${dirs.map(sqlLiteral).join(', ')}]`);
    await conn.run(`SET allowed_paths = [${files.map(sqlLiteral).join(', ')}]`);
    await conn.run('SET enable_external_access = false');
    await conn.run('SET lock_configuration = true');
  } finally {
    conn.closeSync();
  }
}
