/**
 * The composition root: opens the database and bus the configuration names,
 * migrates, syncs the catalog from the domains folder, and wires the
 * orchestrator and workers together. In the embedded mode everything lives in
 * this process.
 */
import path from 'node:path';
import { hasErrors, type Diagnostic } from '../common/diagnostics.ts';
import { createLogger, loadDomains, migrate, MemoryBus, openDatabase, type Bus, type Config, type Database, type DomainsSnapshot, type Logger } from '../platform/index.ts';
import { parsePlaybook, Supervisor, type Playbook } from '../services/orchestrator/index.ts';
import { syncCatalog } from '../services/registry/index.ts';
import { TOOL_KINDS, Worker } from '../services/worker/index.ts';
import { NoetlError } from '../common/errors.ts';

export interface Runtime {
  config: Config;
  log: Logger;
  database: Database;
  bus: Bus;
  supervisor: Supervisor;
  workers: Worker[];
  snapshot: DomainsSnapshot;
  playbooks: Playbook[];
  close(): Promise<void>;
}

export interface CheckedDomains {
  snapshot: DomainsSnapshot;
  playbooks: Playbook[];
  diagnostics: Diagnostic[];
}

/** Loads and checks every file under the domains folder. */
export function checkDomains(domainsDir: string): CheckedDomains {
  const snapshot = loadDomains(domainsDir);
  const diagnostics = [...snapshot.diagnostics];
  const playbooks: Playbook[] = [];
  const products = new Set(snapshot.products.keys());
  for (const d of snapshot.domains) {
    for (const p of d.playbooks) {
      const parsed = parsePlaybook(p.text, p.file, d.name, { toolKinds: TOOL_KINDS, products });
      diagnostics.push(...parsed.diagnostics);
      if (parsed.playbook) {
        if (parsed.playbook.name !== p.name) {
          diagnostics.push({ file: p.file, line: 1, col: 1, code: 'E_PLAYBOOK_INVALID', severity: 'error', message: `metadata.name "${parsed.playbook.name}" must match the file name "${p.name}"` });
        } else playbooks.push(parsed.playbook);
      }
    }
  }
  return { snapshot, playbooks, diagnostics };
}

export async function openRuntime(config: Config, options: { workers?: number; log?: Logger } = {}): Promise<Runtime> {
  const log = options.log ?? createLogger({ level: config.logLevel });
  const checked = checkDomains(config.domainsDir);
  if (hasErrors(checked.diagnostics)) {
    throw new NoetlError('E_SCHEMA_INVALID', `the domains folder has errors; run \`noetl check\` to see them (${checked.diagnostics.filter((d) => d.severity === 'error').length} errors)`);
  }
  const database = await openDatabase(config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl } : { kind: 'embedded', dataDir: path.join(config.home, 'db') });
  try {
    await migrate(database);
    await syncCatalog(database.db, checked.snapshot);
  } catch (e) {
    await database.close();
    throw e;
  }
  if (config.natsUrl) log.warn('NOETL_NATS_URL is set, but this build runs the in-process bus; JetStream arrives with the distributed runtime');
  const bus = new MemoryBus();
  const supervisor = new Supervisor({ db: database.db, bus, log: log.child({ part: 'orchestrator' }), toolKinds: TOOL_KINDS });
  supervisor.start();
  const workers: Worker[] = [];
  for (let i = 0; i < (options.workers ?? 1); i++) {
    const w = new Worker({ bus, log: log.child({ part: 'worker' }), artifactsDir: config.artifactsDir, concurrency: config.workerConcurrency });
    await w.start();
    workers.push(w);
  }
  return {
    config,
    log,
    database,
    bus,
    supervisor,
    workers,
    snapshot: checked.snapshot,
    playbooks: checked.playbooks,
    async close() {
      await supervisor.stop();
      for (const w of workers) await w.stop();
      await bus.close();
      await database.close();
    },
  };
}
