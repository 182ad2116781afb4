/**
 * The registry as a server runs it: the real embedded runtime (supervisor,
 * workers, in-process bus) on a copy of the shipped domains, on PGlite or on a
 * fresh PostgreSQL database, with the app wired to it as `openServer` wires it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { openRuntime, type Runtime } from '../../cli/runtime.ts';
import { loadConfig } from '../../platform/index.ts';
import { buildApp } from '../../services/registry/index.ts';
import { freshPostgres } from './postgres.ts';
import { workspace } from './workspace.ts';

export interface TestRegistry {
  rt: Runtime;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** `files` (path under the domains folder → text) are added to the copy of the shipped domains. */
export async function openRegistry(database: 'embedded' | 'postgres', files: Record<string, string> = {}): Promise<TestRegistry> {
  const ws = workspace();
  for (const [relative, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(ws.domains, relative)), { recursive: true });
    fs.writeFileSync(path.join(ws.domains, relative), text);
  }
  const fresh = database === 'postgres' ? await freshPostgres() : undefined;
  const env = { NOETL_HOME: ws.home, NOETL_DOMAINS_DIR: ws.domains, NOETL_LOG_LEVEL: 'error', ...(fresh ? { NOETL_DATABASE_URL: fresh.url } : {}) };
  const rt = await openRuntime(loadConfig(env));
  const app = await buildApp({
    db: rt.database.db,
    log: rt.log,
    mode: 'embedded',
    bus: rt.bus,
    executions: {
      start: (ref, workload) => rt.supervisor.startExecution(ref, workload),
      cancel: async (id, reason) => void (await rt.supervisor.cancel(id, reason)),
      onEvent: (listener) => rt.supervisor.onEvent(listener),
    },
  });
  return {
    rt,
    app,
    async close() {
      try {
        await app.close();
        await rt.close();
      } finally {
        await fresh?.drop();
        ws.cleanup();
      }
    },
  };
}
