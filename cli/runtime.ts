/**
 * The composition root. It opens what the configuration names (embedded or
 * real PostgreSQL, in-process bus or JetStream), migrates and syncs the catalog,
 * and wires the services into one of three roles:
 *   - all-in-one (`noetl dev`, `noetl run`): registry, orchestrator and workers in this process;
 *   - server (`noetl server`): registry and orchestrator, workers elsewhere over JetStream;
 *   - worker (`noetl worker`): executors of one pool, no database, no HTTP.
 */
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { formatDiagnostic, hasErrors, type Diagnostic } from '../common/diagnostics.ts';
import { NoetlError } from '../common/errors.ts';
import { createLogger, JetStreamBus, lineageTransports, LocalArtifactStore, type BusRole, loadDomains, MemoryBus, migrate, openDatabase, type Bus, type Config, type Database, type DomainsSnapshot, type Logger } from '../platform/index.ts';
import { parsePlaybook, subPlaybookCycles, Supervisor, type Playbook } from '../services/orchestrator/index.ts';
import { parseYaml } from '../common/yaml-source.ts';
import { buildApp, syncCatalog } from '../services/registry/index.ts';
import { commandConsumer, TOOL_KINDS, Worker } from '../services/worker/index.ts';

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
  const refs = new Set(snapshot.domains.flatMap((d) => d.playbooks.map((p) => `${d.name}/${p.name}`)));
  for (const d of snapshot.domains) {
    for (const p of d.playbooks) {
      const parsed = parsePlaybook(p.text, p.file, d.name, { toolKinds: TOOL_KINDS, products, playbooks: refs });
      diagnostics.push(...parsed.diagnostics);
      if (parsed.playbook) {
        if (parsed.playbook.name !== p.name) {
          diagnostics.push({ file: p.file, line: 1, col: 1, code: 'E_PLAYBOOK_INVALID', severity: 'error', message: `metadata.name "${parsed.playbook.name}" must match the file name "${p.name}"` });
        } else playbooks.push(parsed.playbook);
      }
    }
  }
  const texts = new Map(snapshot.domains.flatMap((d) => d.playbooks.map((p) => [p.file, p.text] as const)));
  for (const c of subPlaybookCycles(playbooks)) {
    const at = parseYaml(texts.get(c.playbook.file) ?? '', c.playbook.file).locate([...c.step.path, 'tool', 'path']);
    diagnostics.push({ ...at, code: 'E_PLAYBOOK_STEP_CONFLICT', severity: 'error', message: `step "${c.step.name}" calls ${String(c.step.tool.path)}, and playbooks ${c.circle.join(', ')} call each other as sub-playbooks in a circle: an execution would never end` });
  }
  return { snapshot, playbooks: playbooks.filter((p) => !diagnostics.some((d) => d.severity === 'error' && d.file === p.file)), diagnostics };
}

/** The bus the configuration names: JetStream when NOETL_NATS_URL is set, else in-process; of NOETL_DEPLOYMENT either way. */
export async function openBus(config: Config, name: string, options: { requireNats?: boolean; role?: BusRole } = {}): Promise<Bus> {
  if (config.natsUrl) {
    const role = options.role ?? 'server';
    return JetStreamBus.connect({ url: config.natsUrl, name, deployment: config.deployment, role, credentials: config.natsCredentials });
  }
  if (options.requireNats) throw new NoetlError('E_CONFIG_INVALID', `${name} runs separate processes and needs NATS JetStream: set NOETL_NATS_URL (e.g. nats://127.0.0.1:4222), or use \`noetl dev\` to run everything in one process`, { details: { variable: 'NOETL_NATS_URL' } });
  return new MemoryBus({ deployment: config.deployment });
}

/** Opens the database, migrates it and writes the domains folder into the catalog. */
export async function openCatalog(config: Config): Promise<{ database: Database; checked: CheckedDomains }> {
  const checked = checkDomains(config.domainsDir);
  const errors = checked.diagnostics.filter((d) => d.severity === 'error');
  if (hasErrors(checked.diagnostics)) {
    const shown = errors.slice(0, 3).map((d) => `  ${formatDiagnostic(d)}`).join('\n');
    throw new NoetlError('E_SCHEMA_INVALID', `the domains folder ${config.domainsDir} has ${errors.length} error${errors.length === 1 ? '' : 's'}:\n${shown}${errors.length > 3 ? '\n  …' : ''}\nrun \`noetl check\` to see them all`);
  }
  const database = await openDatabase(config.databaseUrl ? { kind: 'postgres', url: config.databaseUrl } : { kind: 'embedded', dataDir: path.join(config.home, 'db') });
  try {
    await migrate(database);
    await syncCatalog(database.db, checked.snapshot);
  } catch (e) {
    await database.close();
    throw e;
  }
  return { database, checked };
}

function newSupervisor(config: Config, database: Database, bus: Bus, log: Logger): Supervisor {
  return new Supervisor({
    db: database.db,
    bus,
    log: log.child({ part: 'orchestrator' }),
    toolKinds: TOOL_KINDS,
    pools: config.pools,
    maxInFlightPerExecution: config.maxInFlightPerExecution,
    lineageTransports: lineageTransports(config.lineageTransports, bus),
    artifacts: new LocalArtifactStore(config.artifactsDir),
  });
}

function newWorker(config: Config, bus: Bus, log: Logger, pool: string, concurrency: number): Worker {
  return new Worker({ bus, log: log.child({ part: 'worker', pool }), artifactsDir: config.artifactsDir, pool, concurrency, ackWaitMs: config.ackWaitMs, maxDeliver: config.maxDeliver, secrets: config.secrets, python: config.python, pythonSandbox: config.pythonSandbox, stagingMaxAgeMs: config.stagingMaxAgeMs, httpAllow: config.httpAllow });
}

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

/** Everything in this process: one worker per declared pool (none with `workers: false`, when they run elsewhere). */
export async function openRuntime(config: Config, options: { log?: Logger; workers?: boolean } = {}): Promise<Runtime> {
  const log = options.log ?? createLogger({ level: config.logLevel, secrets: new Set(Object.values(config.secrets)) });
  const { database, checked } = await openCatalog(config);
  let bus: Bus;
  try {
    bus = await openBus(config, 'noetl-dev');
  } catch (e) {
    await database.close();
    throw e;
  }
  const supervisor = newSupervisor(config, database, bus, log);
  supervisor.start();
  const workers: Worker[] = [];
  // Over JetStream each worker gets a connection of its own, as a worker process would.
  const workerBuses: Bus[] = [];
  for (const pool of options.workers === false ? [] : config.pools) {
    const workerBus = config.natsUrl ? await openBus(config, `noetl-dev-worker-${pool.name}`, { role: 'worker' }) : bus;
    if (workerBus !== bus) workerBuses.push(workerBus);
    const w = newWorker(config, workerBus, log, pool.name, config.workerConcurrency);
    await w.start();
    workers.push(w);
  }
  await supervisor.recover();
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
      try {
        await supervisor.stop();
        for (const w of workers) await w.stop();
        for (const b of workerBuses) await b.close();
        await bus.close();
      } finally {
        await database.close();
      }
    },
  };
}

export interface Server {
  app: FastifyInstance;
  supervisor: Supervisor;
  close(): Promise<void>;
}

/** Registry and orchestrator, with workers in other processes over JetStream. */
export async function openServer(config: Config, log: Logger): Promise<Server> {
  const { database } = await openCatalog(config);
  let bus: Bus;
  try {
    bus = await openBus(config, 'noetl-server', { requireNats: true });
    // The server owns its workers' durables, so a worker's NATS user needs no right to create consumers.
    for (const pool of config.pools) await bus.declare(commandConsumer(bus.names, pool.name, config));
  } catch (e) {
    await database.close();
    throw e;
  }
  const supervisor = newSupervisor(config, database, bus, log);
  supervisor.start();
  await supervisor.recover();
  const app = await buildApp({
    db: database.db,
    log: log.child({ part: 'registry' }),
    mode: 'distributed',
    bus,
    executions: {
      start: (ref, workload) => supervisor.startExecution(ref, workload),
      cancel: async (id, reason) => void (await supervisor.cancel(id, reason)),
      onEvent: (l) => supervisor.onEvent(l),
    },
  });
  return {
    app,
    supervisor,
    async close() {
      try {
        await app.close();
        await supervisor.stop();
        await bus.close();
      } finally {
        await database.close();
      }
    },
  };
}

/** Workers of one pool, pulling commands from JetStream. */
export async function openWorkers(config: Config, log: Logger, pool: string, concurrency: number): Promise<{ workers: Worker[]; close: () => Promise<void> }> {
  if (!config.pools.some((p) => p.name === pool)) {
    throw new NoetlError('E_CONFIG_INVALID', `pool "${pool}" is not declared in NOETL_POOLS (declared: ${config.pools.map((p) => p.name).join(', ')}); the orchestrator would never send it work`, { details: { variable: 'NOETL_POOLS' } });
  }
  const bus = await openBus(config, `noetl-worker-${pool}`, { requireNats: true, role: 'worker' });
  const worker = newWorker(config, bus, log, pool, concurrency);
  try {
    await worker.start();
  } catch (e) {
    await worker.stop().catch(() => undefined);
    await bus.close();
    throw e;
  }
  return {
    workers: [worker],
    async close() {
      await worker.stop();
      await bus.close();
    },
  };
}
