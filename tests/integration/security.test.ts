/**
 * The attacks issue 12 found, each replayed against the real embedded runtime
 * (PGlite, the in-process bus, DuckDB workers) and its HTTP API: a workload
 * value that tries to become SQL, steps that try to read or write outside the
 * artifact store, a guard that tries to allocate the machine, a template that
 * outlives its step's timeout, a NUL byte in a step's output, a forged event
 * that makes the supervisor throw, a forged report that repoints a product.
 * Each must fail in its own execution (or not at all), leave no file touched
 * outside the store, and leave every other execution to finish; the runtime
 * must restart and serve. The suite ends with a report where every count is 0.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openRuntime, openServer, openWorkers, type Runtime, type Server } from '../../cli/runtime.ts';
import { createLogger, JetStreamBus, loadConfig, type Config, type ExecutionEvent } from '../../platform/index.ts';
import { buildApp } from '../../services/registry/index.ts';
import { startNatsServer, type TestNatsServer } from '../helpers/nats-server.ts';
import { freshPostgres, type FreshDatabase } from '../helpers/postgres.ts';
import { fixtureTree, tempDir } from '../helpers/workspace.ts';

const CANARY = `canary-${randomUUID()}`;

const playbook = (name: string, body: string): string => `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: ${name}, description: An attack. }
${body}`;

const files = (outside: string): Record<string, string> => ({
  'attack/domain.yaml': 'description: Playbooks that attack noetl.\nowners: [security@example.com]\n',
  'attack/products/scores.odcs.yaml': `apiVersion: v3.1.0
kind: DataContract
id: attack.scores
version: 1.0.0
status: active
domain: attack
dataProduct: scores
team: { name: attack, members: [{ username: security@example.com, role: owner }] }
schema:
  - name: scores
    properties:
      - { name: id, logicalType: integer, required: true, unique: true }
    quality:
      - { metric: rowCount, mustBeBetween: [1, 10] }
`,
  'attack/playbooks/echo.yaml': playbook('echo', `workload: { label: plain, n: 3 }
workflow:
  - step: echo
    tool: { kind: duckdb, sql: "SELECT {{ workload.label }} AS label, count(*) AS n FROM range({{ workload.n }})" }
`),
  'attack/playbooks/read_outside.yaml': playbook('read_outside', `workload: { file: ${JSON.stringify(path.join(outside, 'secret.txt'))} }
workflow:
  - step: read
    tool: { kind: duckdb, sql: "SELECT content FROM read_text({{ workload.file }})" }
`),
  'attack/playbooks/write_outside.yaml': playbook('write_outside', `workflow:
  - step: write
    tool: { kind: duckdb, sql: "SELECT 1 AS x; COPY (SELECT 42 AS x) TO '${path.join(outside, 'written.csv')}' (FORMAT CSV)" }
`),
  'attack/playbooks/settings.yaml': playbook('settings', `workflow:
  - step: widen
    tool: { kind: duckdb, sql: "SELECT current_setting('enable_external_access') AS external, (SELECT count(*) FROM duckdb_tables()) AS tables" }
`),
  'attack/playbooks/guard_bomb.yaml': playbook('guard_bomb', `workload: { n: 1 }
workflow:
  - step: start
    tool: { kind: noop }
    next: [{ step: big, when: "{{ range(workload.n) | length > 5 }}" }]
  - step: big
    tool: { kind: noop }
`),
  'attack/playbooks/slow_template.yaml': playbook('slow_template', `workflow:
  - step: render
    timeout: 1s
    tool: { kind: noop, result: "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}" }
`),
  'attack/playbooks/nul_output.yaml': playbook('nul_output', `workflow:
  - step: print
    tool: { kind: noop, result: "a{{ '\\\\x00' }}b" }
`),
  'attack/playbooks/slow_product.yaml': playbook('slow_product', `workflow:
  - step: build
    produces: attack.scores
    tool:
      - { kind: noop, sleep_ms: 1500 }
      - { kind: duckdb, sql: "SELECT i::INTEGER AS id FROM range(3) t(i)" }
`),
  'attack/playbooks/items.yaml': playbook('items', `workload: { items: [] }
workflow:
  - step: count
    tool: { kind: noop, result: "{{ workload.items | length }}" }
`),
  'attack/playbooks/big_command.yaml': playbook('big_command', `workflow:
  - step: start
    next: [{ step: a }, { step: b }, { step: c }, { step: d }]
  - { step: a, tool: { kind: noop, result: "{{ range(60000) | join(',') }}" }, next: [{ step: all }] }
  - { step: b, tool: { kind: noop, result: "{{ range(60000) | join(',') }}" }, next: [{ step: all }] }
  - { step: c, tool: { kind: noop, result: "{{ range(60000) | join(',') }}" }, next: [{ step: all }] }
  - { step: d, tool: { kind: noop, result: "{{ range(60000) | join(',') }}" }, next: [{ step: all }] }
  - step: all
    tool: { kind: noop, result: "{{ results.a.value | length + results.b.value | length + results.c.value | length + results.d.value | length }}" }
`),
  'attack/playbooks/lingers.yaml': playbook('lingers', `workflow:
  - step: wait
    tool: { kind: noop, sleep_ms: 4000 }
`),
  'attack/playbooks/waits.yaml': playbook('waits', `workload: { sleep: 800 }
workflow:
  - step: wait
    tool: { kind: noop, sleep_ms: "{{ workload.sleep }}", result: done }
`),
});

/** What the suite tried and what got through; every count but `cases` must end at 0. */
const report = { cases: 0, serverErrors: 0, leaks: 0, filesTouchedOutsideStore: 0, executionsLost: 0 };

describe('security: attacks on the embedded runtime', () => {
  const outside = tempDir('noetl-outside-');
  fs.writeFileSync(path.join(outside, 'secret.txt'), CANARY);
  const root = fixtureTree(files(outside));
  let config: Config;
  let rt: Runtime;
  const events: ExecutionEvent[] = [];

  const run = async (ref: string, workload: Record<string, unknown> = {}) => {
    report.cases++;
    const id = await rt.supervisor.startExecution(ref, workload);
    return { id, state: await rt.supervisor.waitFor(id) };
  };

  /** Nothing outside the store changed; the canary appears in no event, no row and no error. */
  const assertContained = async (): Promise<void> => {
    const outsideFiles = fs.readdirSync(outside);
    if (outsideFiles.join() !== 'secret.txt') report.filesTouchedOutsideStore++;
    assert.deepEqual(outsideFiles, ['secret.txt'], 'nothing was written outside the store');
    const rows = await rt.database.db.selectFrom('events').select('payload').execute();
    const leaked = JSON.stringify(rows).includes(CANARY) || JSON.stringify(events).includes(CANARY);
    if (leaked) report.leaks++;
    assert.ok(!leaked, 'the file outside the store was never read into an event');
  };

  before(async () => {
    config = loadConfig({ NOETL_HOME: path.join(root, '.noetl'), NOETL_DOMAINS_DIR: root, NOETL_LOG_LEVEL: 'error' });
    rt = await openRuntime(config);
    rt.supervisor.onEvent((e) => events.push(e));
  });

  after(async () => {
    await rt?.close();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
    process.stdout.write(`security report: ${report.cases} cases tried, ${report.serverErrors} 5xx, ${report.leaks} leaks, ${report.filesTouchedOutsideStore} files touched outside the store, ${report.executionsLost} executions lost\n`);
    assert.deepEqual({ ...report, cases: 0 }, { cases: 0, serverErrors: 0, leaks: 0, filesTouchedOutsideStore: 0, executionsLost: 0 });
  });

  it('a workload value is data in SQL: quotes, statements and subqueries stay text', async () => {
    for (const label of ["it's", `x'; COPY (SELECT 42) TO '${path.join(outside, 'x.csv')}' (FORMAT CSV); --`, "(SELECT content FROM read_text('/etc/passwd'))", '$1']) {
      const { state } = await run('attack/echo', { label });
      assert.equal(state.status, 'completed', JSON.stringify(state.error));
      const out = state.results.echo;
      assert.ok(out?.kind === 'table' && out.rows === 1);
      const conn = await (await import('@duckdb/node-api')).DuckDBInstance.create(':memory:');
      try {
        const c = await conn.connect();
        const rows = (await c.runAndReadAll(`SELECT label, n FROM read_parquet('${new URL(out.uri).pathname}')`)).getRowObjectsJson();
        assert.deepEqual(rows, [{ label, n: '3' }], 'the value came back as itself, the query unchanged');
        c.closeSync();
      } finally {
        conn.closeSync();
      }
    }
    await assertContained();
  });

  it('refuses a workload key or type the playbook does not have, before anything is recorded', async () => {
    const count = async () => (await rt.database.db.selectFrom('executions').select('id').execute()).length;
    const before = await count();
    report.cases += 2;
    await assert.rejects(rt.supervisor.startExecution('attack/echo', { n: '(SELECT 1)' }), { code: 'E_WORKLOAD_INVALID' });
    await assert.rejects(rt.supervisor.startExecution('attack/echo', { extra: 1 }), (e: unknown) => (e as { code?: string }).code === 'E_WORKLOAD_INVALID' && /no key "extra"/.test((e as Error).message));
    assert.equal(await count(), before);
  });

  it('a step reads no file outside the store, even one a workload names', async () => {
    const { state } = await run('attack/read_outside');
    assert.equal(state.status, 'failed');
    assert.equal(state.error?.code, 'E_TOOL_SQL');
    assert.match(state.error.message, /disabled by configuration|Permission Error/);
    await assertContained();
  });

  it('a step is one statement: a second one that would write a file is refused before anything runs', async () => {
    const { state } = await run('attack/write_outside');
    assert.equal(state.status, 'failed');
    assert.match(state.error!.message, /2 statements/);
    await assertContained();
  });

  it('each command has a fresh database with external access off', async () => {
    const { state } = await run('attack/settings');
    assert.equal(state.status, 'completed', JSON.stringify(state.error));
    const out = state.results.widen;
    assert.ok(out?.kind === 'table');
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:');
    try {
      const c = await db.connect();
      const rows = (await c.runAndReadAll(`SELECT * FROM read_parquet('${new URL(out.uri).pathname}')`)).getRowObjectsJson();
      assert.deepEqual(rows, [{ external: false, tables: '0' }]);
      c.closeSync();
    } finally {
      db.closeSync();
    }
  });

  it('a guard that would allocate 150,000,000 numbers fails its execution alone; another one finishes meanwhile', async () => {
    report.cases++;
    const other = rt.supervisor.startExecution('attack/waits');
    const { state } = await run('attack/guard_bomb', { n: 150_000_000 });
    assert.equal(state.status, 'failed');
    assert.equal(state.error?.code, 'E_TEMPLATE_LIMIT');
    const done = await rt.supervisor.waitFor(await other);
    if (done.status !== 'completed') report.executionsLost++;
    assert.equal(done.status, 'completed');
  });

  it("a step's timeout covers its templates: a template that would run for hours stops with E_STEP_TIMEOUT", async () => {
    const t0 = Date.now();
    const { state } = await run('attack/slow_template');
    assert.equal(state.status, 'failed');
    assert.equal(state.error?.code, 'E_STEP_TIMEOUT');
    assert.ok(Date.now() - t0 < 60_000, 'it stopped near its timeout, not hours later');
  });

  it('a NUL byte in a step output is stored (as U+FFFD) and the run completes', async () => {
    const { id, state } = await run('attack/nul_output');
    assert.equal(state.status, 'completed', JSON.stringify(state.error));
    const row = await rt.database.db.selectFrom('events').select('payload').where('execution_id', '=', id).where('type', '=', 'step.completed').executeTakeFirstOrThrow();
    assert.deepEqual((row.payload as { result: unknown }).result, { kind: 'value', value: 'a\uFFFDb' });
  });

  it('a forged event that makes the supervisor throw fails that execution alone (E_EXECUTION_POISONED)', async () => {
    report.cases++;
    const victim = await rt.supervisor.startExecution('attack/waits', { sleep: 1500 });
    const bystander = await rt.supervisor.startExecution('attack/waits', { sleep: 1500 });
    const forged = { type: 'step.skipped', step: 'no_such_step', eventId: `${victim}:forged`, executionId: victim, at: new Date().toISOString() };
    await rt.bus.publish(rt.bus.names.subjects.events(victim), [forged], { msgId: forged.eventId });
    const poisoned = await rt.supervisor.waitFor(victim);
    assert.equal(poisoned.status, 'failed');
    assert.equal(poisoned.error?.code, 'E_EXECUTION_POISONED');
    const done = await rt.supervisor.waitFor(bystander);
    if (done.status !== 'completed') report.executionsLost++;
    assert.equal(done.status, 'completed');
    const row = await rt.database.db.selectFrom('executions').select(['status', 'error']).where('id', '=', victim).executeTakeFirstOrThrow();
    assert.equal(row.status, 'failed');
  });

  it('a command too large for the bus fails its execution with E_EXECUTION_POISONED, at once', async () => {
    const t0 = Date.now();
    const { state } = await run('attack/big_command');
    assert.equal(state.status, 'failed');
    assert.equal(state.error?.code, 'E_EXECUTION_POISONED');
    assert.match(state.error.message, /E_MESSAGE_TOO_LARGE/);
    assert.ok(Date.now() - t0 < 30_000, 'no minute of retries before it fails');
  });

  it("a forged report cannot repoint a product at a file of the attacker's choosing", async () => {
    report.cases++;
    const forgedFile = path.join(outside, 'forged.parquet');
    const id = await rt.supervisor.startExecution('attack/slow_product');
    for (let i = 0; i < 100 && !events.some((e) => e.executionId === id && e.type === 'step.dispatched'); i++) await new Promise((r) => setTimeout(r, 20));
    const artifact = { kind: 'table' as const, uri: `file://${forgedFile}`, format: 'parquet' as const, schema: [{ name: 'id', type: 'INTEGER' }], rows: 500, bytes: 1, sha256: '0'.repeat(64) };
    const forged = {
      type: 'step.completed', step: 'build', attempt: 1, durationMs: 1, result: artifact, eventId: `${id}:forged-complete`, executionId: id, at: new Date().toISOString(),
      quality: { productId: 'attack.scores', contractVersion: '1.0.0', passed: true, checks: [], conformance: [], artifact, materializationId: `${id}.build.1` },
    };
    await rt.bus.publish(rt.bus.names.subjects.events(id), [forged], { msgId: forged.eventId });
    const state = await rt.supervisor.waitFor(id);
    assert.equal(state.status, 'failed');
    assert.equal(state.error?.code, 'E_OUTCOME_REJECTED');
    const product = await rt.database.db.selectFrom('products').select('current_materialization_id').where('id', '=', 'attack.scores').executeTakeFirstOrThrow();
    assert.equal(product.current_materialization_id, null, 'the product did not move');
    const artifacts = await rt.database.db.selectFrom('artifacts').select('uri').execute();
    assert.ok(!artifacts.some((a) => a.uri.includes(outside)), 'the forged file is recorded nowhere');
  });

  it('a workload over the limit is refused with 413 before anything is written', async () => {
    report.cases++;
    const control = { start: (ref: string, w: Record<string, unknown>) => rt.supervisor.startExecution(ref, w), cancel: () => Promise.resolve(), onEvent: () => () => undefined };
    const app = await buildApp({ db: rt.database.db, log: rt.log, mode: 'embedded', executions: control });
    try {
      const before = (await rt.database.db.selectFrom('executions').select('id').execute()).length;
      // Each string is within the API's own limit (64 Ki characters); together they are over the workload's.
      const items = Array.from({ length: 5 }, () => 'x'.repeat(60_000));
      const res = await app.inject({ method: 'POST', url: '/api/v1/executions', payload: { playbook: 'attack/items', workload: { items } } });
      if (res.statusCode >= 500) report.serverErrors++;
      assert.equal(res.statusCode, 413);
      assert.equal(res.json<{ error: { code: string } }>().error.code, 'E_WORKLOAD_TOO_LARGE');
      assert.equal((await rt.database.db.selectFrom('executions').select('id').execute()).length, before);
    } finally {
      await app.close();
    }
  });

  it('after all of it, the runtime restarts on the same home and runs a playbook', async () => {
    report.cases++;
    await rt.close();
    rt = await openRuntime(config);
    rt.supervisor.onEvent((e) => events.push(e));
    const { state } = await run('attack/echo');
    if (state.status !== 'completed') report.executionsLost++;
    assert.equal(state.status, 'completed', JSON.stringify(state.error));
    await assertContained();
  });
});

describe('security: poison in the distributed mode (a server and workers over JetStream, PostgreSQL)', () => {
  const outside = tempDir('noetl-outside-');
  const root = fixtureTree(files(outside));
  let nats: TestNatsServer;
  let db: FreshDatabase;
  let config: Config;
  let server: Server;
  let workers: Awaited<ReturnType<typeof openWorkers>>;
  const log = createLogger({ level: 'error', write: () => undefined });

  before(async () => {
    nats = await startNatsServer();
    db = await freshPostgres();
    config = loadConfig({ NOETL_NATS_URL: nats.url, NOETL_DATABASE_URL: db.url, NOETL_HOME: path.join(root, '.noetl'), NOETL_DOMAINS_DIR: root, NOETL_ACK_WAIT_MS: '5000' });
    server = await openServer(config, log);
    workers = await openWorkers(config, log, 'default', 4);
  });

  after(async () => {
    await workers?.close();
    await server?.close();
    await nats?.stop();
    await db?.drop();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  it('a poisoned execution fails alone; a server restarted meanwhile starts, serves and finishes the others, and one it cannot rebuild is failed, not fatal', async () => {
    report.cases++;
    const start = (ref: string, workload: Record<string, unknown> = {}) => server.supervisor.startExecution(ref, workload);
    const victim = await start('attack/waits', { sleep: 3000 });
    const bystander = await start('attack/waits', { sleep: 1500 });
    const attacker = await JetStreamBus.connect({ url: nats.url, role: 'worker' });
    try {
      const forged = { type: 'step.skipped', step: 'no_such_step', eventId: `${victim}:forged`, executionId: victim, at: new Date().toISOString() };
      await attacker.publish(attacker.names.subjects.events(victim), [forged], { msgId: forged.eventId });
    } finally {
      await attacker.close();
    }
    assert.equal((await server.supervisor.waitFor(victim)).error?.code, 'E_EXECUTION_POISONED');
    assert.equal((await server.supervisor.waitFor(bystander)).status, 'completed');

    // Stopped with two executions under way; one's playbook can no longer be read when it restarts.
    const pending = await start('attack/waits', { sleep: 2500 });
    const unreadable = await start('attack/lingers');
    await server.close();
    const sql = await import('pg');
    const client = new sql.default.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query("UPDATE playbook_versions SET source = 'workflow: [not: a playbook' WHERE ref = 'attack/lingers'");
    } finally {
      await client.end();
    }
    server = await openServer(config, log);
    const health = await server.app.inject({ method: 'GET', url: '/health' });
    if (health.statusCode >= 500) report.serverErrors++;
    assert.equal(health.statusCode, 200, health.body);
    const resumed = await server.supervisor.waitFor(pending);
    if (resumed.status !== 'completed') report.executionsLost++;
    assert.equal(resumed.status, 'completed', JSON.stringify(resumed.error));
    const lost = await server.supervisor.waitFor(unreadable);
    assert.equal(lost.status, 'failed');
    assert.equal(lost.error?.code, 'E_EXECUTION_POISONED');
    const fresh = await server.supervisor.waitFor(await start('attack/echo'));
    if (fresh.status !== 'completed') report.executionsLost++;
    assert.equal(fresh.status, 'completed');
  });
});
