/**
 * Two deployments on one nats-server, as two teams (or staging beside
 * production) would run them: each a server and two workers with its own
 * database and NOETL_DEPLOYMENT, executions of both running at the same time.
 * Every execution completes, on its own deployment's workers, and neither
 * deployment's streams, durables or control subjects carry the other's messages.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { openServer, openWorkers, type Server } from '../../cli/runtime.ts';
import { createLogger, JetStreamBus, loadConfig, type Config } from '../../platform/index.ts';
import { startNatsServer, type TestNatsServer } from '../helpers/nats-server.ts';
import { freshPostgres, type FreshDatabase } from '../helpers/postgres.ts';
import { REPO_ROOT, workspace } from '../helpers/workspace.ts';

interface Deployment {
  name: string;
  config: Config;
  db: FreshDatabase;
  pool: pg.Pool;
  server: Server;
  workers: Awaited<ReturnType<typeof openWorkers>>[];
  logs: string[];
}

const within = <T>(ms: number, what: string, work: Promise<T>): Promise<T> =>
  Promise.race([work, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms).unref())]);

describe('two deployments on one nats-server', () => {
  const ws = workspace();
  let nats: TestNatsServer;
  const deployments: Deployment[] = [];

  before(async () => {
    fs.cpSync(path.join(REPO_ROOT, 'tests/fixtures/domains/reliability'), path.join(ws.domains, 'reliability'), { recursive: true });
    nats = await startNatsServer();
    for (const name of ['noetl', 'team-b']) {
      const db = await freshPostgres();
      const config = loadConfig({
        NOETL_DEPLOYMENT: name,
        NOETL_NATS_URL: nats.url,
        NOETL_DATABASE_URL: db.url,
        NOETL_HOME: path.join(ws.root, `home-${name}`),
        NOETL_DOMAINS_DIR: ws.domains,
        NOETL_POOLS: 'default:cpu@64',
        NOETL_ACK_WAIT_MS: '5000',
      });
      const logs: string[] = [];
      const log = createLogger({ level: 'warn', write: (line) => logs.push(line) });
      const server = await openServer(config, log);
      const workers = [await openWorkers(config, log, 'default', 4), await openWorkers(config, log, 'default', 4)];
      deployments.push({ name, config, db, pool: new pg.Pool({ connectionString: db.url, max: 2 }), server, workers, logs });
    }
  });

  after(async () => {
    for (const d of deployments) {
      for (const w of d.workers) await w.close();
      await d.server.close();
      await d.pool.end();
      await d.db.drop();
    }
    await nats?.stop();
    ws.cleanup();
  });

  it('runs executions of both at the same time: each completes on its own workers, and neither sees the other', async () => {
    const started = await Promise.all(
      deployments.map(async (d) => {
        const start = (ref: string, workload: Record<string, unknown>) => d.server.supervisor.startExecution(ref, workload);
        const ids = await Promise.all([start('reliability/fan_out', { sleep: 100 }), start('reliability/slow_build', { sleep: 300 }), start('reliability/fan_out', { sleep: 50 }), start('reliability/chain', { sleep: 50 })]);
        return { d, ids };
      }),
    );
    for (const { d, ids } of started) {
      const states = await within(60_000, `executions of ${d.name}\n${d.logs.join('\n')}`, Promise.all(ids.map((id) => d.server.supervisor.waitFor(id))));
      assert.deepEqual(states.map((s) => s.status), ids.map(() => 'completed'), `${d.name}: ${JSON.stringify(states.map((s) => s.error))}`);
    }

    const ids = new Map(started.map(({ d, ids }) => [d.name, new Set(ids)]));
    for (const { d } of started) {
      const own = ids.get(d.name)!;
      const executions = await d.pool.query<{ id: string }>('SELECT id FROM executions');
      assert.deepEqual(new Set(executions.rows.map((r) => r.id)), own, `${d.name} knows only its own executions`);
      const workerIds = new Set(d.workers.flatMap((w) => w.workers.map((x) => x.id)));
      const ranOn = await d.pool.query<{ worker: string }>("SELECT DISTINCT payload->>'worker' AS worker FROM events WHERE type = 'step.started'");
      assert.ok(ranOn.rows.length > 0);
      for (const r of ranOn.rows) assert.ok(workerIds.has(r.worker), `${d.name}'s step ran on ${r.worker}, one of its own workers`);
      const unknown = await d.pool.query('SELECT event_id FROM unknown_events');
      assert.deepEqual(unknown.rows, [], `${d.name} received no event of the other deployment`);
      assert.ok(!d.logs.some((l) => l.includes('unknown execution')), d.logs.join('\n'));
      const artifacts = await d.pool.query<{ artifact_uri: string }>('SELECT artifact_uri FROM materializations');
      assert.equal(artifacts.rows.length, 1);
      for (const r of artifacts.rows) assert.ok(fileURLToPath(r.artifact_uri).startsWith(d.config.artifactsDir), `${d.name}'s product was written by its own workers`);
    }

    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      for (const [stream, deployment] of [['NOETL_EVENTS', 'noetl'], ['TEAM-B_EVENTS', 'team-b']] as const) {
        const info = await jsm.streams.info(stream, { subjects_filter: '>' });
        const executions = new Set(Object.keys(info.state.subjects ?? {}).map((s) => s.split('.').at(-1)!));
        assert.deepEqual(executions, ids.get(deployment), `${stream} holds the events of ${deployment}'s executions, and only those`);
      }
      const consumers = async (stream: string) => (await jsm.consumers.list(stream).next()).map((c) => c.name).sort();
      assert.deepEqual(await consumers('NOETL_EVENTS'), ['orchestrator']);
      assert.deepEqual(await consumers('TEAM-B_EVENTS'), ['orchestrator']);
      assert.deepEqual(await consumers('TEAM-B_COMMANDS'), ['workers-default']);
    } finally {
      await nc.close();
    }
  });

  it("a cancellation reaches its own deployment's control subject, not the other's", async () => {
    const [a, b] = deployments as [Deployment, Deployment];
    const heard: string[] = [];
    const listeners = await Promise.all(
      deployments.map(async (d) => {
        const bus = await JetStreamBus.connect({ url: nats.url, deployment: d.name });
        const sub = bus.listen<{ executionId: string }>(bus.names.subjects.allControl, (m, subject) => heard.push(`${d.name} heard ${subject} for ${m.executionId}`));
        return { bus, sub };
      }),
    );
    try {
      await new Promise((r) => setTimeout(r, 100));
      const id = await a.server.supervisor.startExecution('reliability/slow_build', { sleep: 5000 });
      const other = await b.server.supervisor.startExecution('reliability/chain', { sleep: 20 });
      await a.server.supervisor.cancel(id, 'test');
      assert.equal((await within(30_000, 'the cancelled execution', a.server.supervisor.waitFor(id))).status, 'cancelled');
      assert.equal((await within(30_000, "the other deployment's execution", b.server.supervisor.waitFor(other))).status, 'completed');
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(heard, [`noetl heard noetl.control.cancel for ${id}`]);
    } finally {
      for (const l of listeners) {
        l.sub.unsubscribe();
        await l.bus.close();
      }
    }
  });
});
