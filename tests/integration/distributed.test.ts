/**
 * The distributed runtime as a platform team deploys it: `noetl server` and
 * separate `noetl worker` processes over a real nats-server (JetStream) and a
 * real PostgreSQL, with processes killed, restarted and stopped under load.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { ExecutionEvent } from '../../platform/bus/messages.ts';
import { runNoetl } from '../helpers/cli.ts';
import { freePort, startNatsServer, type TestNatsServer } from '../helpers/nats-server.ts';
import { freshPostgres, type FreshDatabase } from '../helpers/postgres.ts';
import { spawnNoetl, type NoetlProcess } from '../helpers/processes.ts';
import { REPO_ROOT, workspace } from '../helpers/workspace.ts';

type Event = ExecutionEvent & { step?: string; attempt?: number; worker?: string };

describe('distributed runtime: server and worker processes over JetStream and PostgreSQL', () => {
  const ws = workspace();
  let nats: TestNatsServer;
  let db: FreshDatabase;
  let pool: pg.Pool;
  let env: Record<string, string>;
  let url: string;
  let server: NoetlProcess;
  const workers: NoetlProcess[] = [];
  let gpuWorker: NoetlProcess;

  const startWorker = async (poolName = 'default', concurrency = 2): Promise<NoetlProcess> => {
    const w = spawnNoetl(['worker', '--pool', poolName, '--concurrency', String(concurrency)], ws.root, env);
    await w.waitFor(/serving pool/);
    return w;
  };
  const startServer = async (): Promise<NoetlProcess> => {
    const s = spawnNoetl(['server'], ws.root, env);
    await s.waitFor(/noetl server at/);
    return s;
  };

  before(async () => {
    fs.cpSync(path.join(REPO_ROOT, 'tests/fixtures/domains/reliability'), path.join(ws.domains, 'reliability'), { recursive: true });
    [nats, db] = await Promise.all([startNatsServer(), freshPostgres()]);
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    env = {
      NOETL_DATABASE_URL: db.url,
      NOETL_NATS_URL: nats.url,
      NOETL_HOME: ws.home,
      NOETL_DOMAINS_DIR: ws.domains,
      NOETL_PORT: String(port),
      NOETL_ACK_WAIT_MS: '1500',
      NOETL_POOLS: 'default:cpu@64;gpu:gpu@1;fragile:fragile@4',
      NOETL_LOG_LEVEL: 'warn',
    };
    server = await startServer();
    workers.push(...(await Promise.all([startWorker(), startWorker(), startWorker()])));
    gpuWorker = await startWorker('gpu', 4);
  });

  after(async () => {
    for (const p of [server, gpuWorker, ...workers]) await p?.kill('SIGKILL');
    await pool?.end();
    await nats?.stop();
    await db?.drop();
    ws.cleanup();
  });

  async function start(playbook: string, workload: Record<string, unknown> = {}): Promise<string> {
    const res = await fetch(`${url}/api/v1/executions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ playbook, workload }) });
    const body = (await res.json()) as { id: string };
    assert.equal(res.status, 201, JSON.stringify(body));
    return body.id;
  }

  async function events(id: string): Promise<Event[]> {
    const r = await pool.query<{ payload: Event }>('SELECT payload FROM events WHERE execution_id = $1 ORDER BY seq', [id]);
    return r.rows.map((x) => x.payload);
  }

  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 45_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nserver:\n${server.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const status = async (id: string): Promise<string> => (await pool.query<{ status: string }>('SELECT status FROM executions WHERE id = $1', [id])).rows[0]!.status;
  const ended = (id: string, timeoutMs?: number): Promise<string> => until(`execution ${id} to end`, async () => ((await status(id)) === 'running' ? undefined : status(id)), timeoutMs);
  const eventOf = (id: string, type: string, step: string): Promise<Event> => until(`${type} of ${step}`, async () => (await events(id)).find((e) => e.type === type && e.step === step));
  const count = (log: Event[], type: string, step?: string): number => log.filter((e) => e.type === type && (step === undefined || e.step === step)).length;
  const pidOf = (workerId: string): number => Number(workerId.split('-').at(-2));

  it('runs one execution across three worker processes', async () => {
    const id = await start('reliability/fan_out');
    assert.equal(await ended(id), 'completed');
    const log = await events(id);
    const ran = new Set(log.filter((e) => e.type === 'step.started' && /^s\d$/.test(e.step)).map((e) => e.worker));
    assert.equal(ran.size, 3, `six parallel steps ran on ${[...ran].join(', ')}`);
    assert.equal(count(log, 'step.completed'), 8);
  });

  it('a worker killed with SIGKILL in the middle of a step: another worker completes it, nothing duplicated or lost', async () => {
    const id = await start('reliability/slow_build', { sleep: 2500 });
    const first = await eventOf(id, 'step.started', 'slow');
    const victim = workers.find((w) => w.child.pid === pidOf(first.worker!));
    assert.ok(victim, `the step runs on one of our workers (${first.worker})`);
    await victim.kill('SIGKILL');
    workers.splice(workers.indexOf(victim), 1, await startWorker());
    assert.equal(await ended(id), 'completed', server.output());
    const log = await events(id);
    const starts = log.filter((e) => e.type === 'step.started' && e.step === 'slow');
    assert.equal(starts.length, 2, 'delivered again after the ack deadline');
    assert.notEqual(starts[0]!.worker, starts[1]!.worker);
    assert.deepEqual(starts.map((e) => e.attempt), [1, 1], 'a redelivery, not a retry');
    assert.equal(count(log, 'step.completed', 'slow'), 1);
    assert.equal(count(log, 'step.completed', 'build'), 1);
    const m = await pool.query<{ id: string; status: string; artifact_uri: string }>("SELECT id, status, artifact_uri FROM materializations WHERE execution_id = $1", [id]);
    assert.deepEqual(m.rows.map((r) => r.status), ['published'], 'one published version of the product');
    const current = await pool.query<{ current_materialization_id: string }>("SELECT current_materialization_id FROM products WHERE id = 'reliability.numbers'");
    assert.equal(current.rows[0]!.current_materialization_id, m.rows[0]!.id);
    assert.ok(fs.existsSync(new URL(m.rows[0]!.artifact_uri)));
  });

  it('the orchestrator killed and restarted mid-execution resumes from the event log', async () => {
    const id = await start('reliability/chain', { sleep: 700 });
    await eventOf(id, 'step.completed', 'c1');
    await server.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    server = await startServer();
    assert.equal(await ended(id), 'completed', server.output());
    const log = await events(id);
    for (const s of ['c1', 'c2', 'c3', 'c4']) {
      assert.equal(count(log, 'step.dispatched', s), 1, `${s} dispatched once`);
      assert.equal(count(log, 'step.completed', s), 1, `${s} completed once`);
    }
  });

  it('nats-server restarted mid-run: no command or event lost', async () => {
    const id = await start('reliability/chain', { sleep: 700 });
    await eventOf(id, 'step.started', 'c2');
    await nats.restart();
    assert.equal(await ended(id, 60_000), 'completed', server.output());
    const log = await events(id);
    for (const s of ['c1', 'c2', 'c3', 'c4']) assert.equal(count(log, 'step.completed', s), 1, `${s} completed once`);
  });

  it('retries a failing step with exponential backoff until it succeeds', async () => {
    const id = await start('reliability/flaky');
    assert.equal(await ended(id), 'completed');
    const log = await events(id);
    assert.deepEqual(log.filter((e) => e.step === 'flaky' && e.type === 'step.failed').map((e) => e.attempt), [1, 2]);
    const dispatches = log.filter((e) => e.type === 'step.dispatched' && e.step === 'flaky') as Extract<Event, { type: 'step.dispatched' }>[];
    const failures = log.filter((e) => e.type === 'step.failed' && e.step === 'flaky');
    assert.equal(Date.parse(dispatches[1]!.notBefore!) - Date.parse(failures[0]!.at), 300);
    assert.equal(Date.parse(dispatches[2]!.notBefore!) - Date.parse(failures[1]!.at), 600);
    const starts = log.filter((e) => e.type === 'step.started' && e.step === 'flaky');
    assert.ok(Date.parse(starts[2]!.at) >= Date.parse(dispatches[2]!.notBefore!), 'the third attempt waited for its backoff');
    assert.equal(count(log, 'step.completed', 'flaky'), 1);
  });

  it('stops a step at its timeout', async () => {
    const t0 = Date.now();
    const id = await start('reliability/flaky', { hang: true });
    assert.equal(await ended(id), 'failed');
    const failed = (await events(id)).find((e) => e.type === 'step.failed' && e.step === 'maybe_hang') as Extract<Event, { type: 'step.failed' }>;
    assert.equal(failed.error.code, 'E_STEP_TIMEOUT');
    assert.ok(Date.now() - t0 < 8000, 'long before the 10 s sleep would have ended');
  });

  it('cancellation reaches the running step and nothing new starts', async () => {
    const id = await start('reliability/slow_build', { sleep: 8000 });
    await eventOf(id, 'step.started', 'slow');
    const t0 = Date.now();
    const res = await fetch(`${url}/api/v1/executions/${id}/cancel`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 202);
    assert.equal(await ended(id), 'cancelled');
    const failed = (await eventOf(id, 'step.failed', 'slow')) as Extract<Event, { type: 'step.failed' }>;
    assert.equal(failed.error.code, 'E_CANCELLED');
    assert.ok(Date.now() - t0 < 5000, 'the running step stopped well before its 8 s sleep');
    assert.equal(count(await events(id), 'step.dispatched', 'build'), 0);
  });

  it('routes steps by resources to the matching pool, within the pool limit; refuses when no pool matches', async () => {
    const id = await start('reliability/on_gpu');
    assert.equal(await ended(id), 'completed');
    const log = await events(id);
    const gpuSteps = log.filter((e) => e.type === 'step.started' && /^g\d$/.test(e.step));
    assert.equal(gpuSteps.length, 3);
    assert.ok(gpuSteps.every((e) => pidOf(e.worker!) === gpuWorker.child.pid), 'all ran on the gpu worker');
    const spans = ['g1', 'g2', 'g3'].map((s) => [Date.parse(log.find((e) => e.type === 'step.dispatched' && e.step === s)!.at), Date.parse(log.find((e) => e.type === 'step.completed' && e.step === s)!.at)] as const);
    spans.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] >= spans[i - 1]![1], 'the gpu pool (max 1) ran one step at a time');
    const res = await fetch(`${url}/api/v1/executions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ playbook: 'reliability/on_tpu' }) });
    assert.equal(res.status, 422);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'E_NO_MATCHING_POOL');
    assert.match(body.error.message, /step "t1" .* needs resources \[tpu\].*pools: default \[cpu\]; gpu \[gpu\]/);
  });

  it('a worker stopped with SIGTERM finishes its step before it exits', async () => {
    const id = await start('reliability/slow_build', { sleep: 1500 });
    const first = await eventOf(id, 'step.started', 'slow');
    const w = workers.find((x) => x.child.pid === pidOf(first.worker!))!;
    const code = await w.kill('SIGTERM');
    assert.equal(code, 0);
    assert.match(w.output(), /worker stopped/);
    workers.splice(workers.indexOf(w), 1, await startWorker());
    assert.equal(await ended(id), 'completed');
    const log = await events(id);
    assert.equal(count(log, 'step.started', 'slow'), 1, 'finished by the stopping worker, not redelivered');
  });

  it('a command delivered the maximum number of times becomes a dead letter, and the execution fails saying so', async () => {
    const fragileEnv = { ...env, NOETL_MAX_DELIVER: '2' };
    const spawnFragile = async (): Promise<NoetlProcess> => {
      const w = spawnNoetl(['worker', '--pool', 'fragile'], ws.root, fragileEnv);
      await w.waitFor(/serving pool/);
      return w;
    };
    let w = await spawnFragile();
    const id = await start('reliability/fragile');
    for (let delivery = 1; delivery <= 2; delivery++) {
      await until(`delivery ${delivery}`, async () => (count(await events(id), 'step.started', 'doomed') === delivery ? true : undefined));
      await w.kill('SIGKILL');
      w = await spawnFragile();
    }
    try {
      assert.equal(await ended(id), 'failed');
      const failed = (await eventOf(id, 'step.failed', 'doomed')) as Extract<Event, { type: 'step.failed' }>;
      assert.equal(failed.error.code, 'E_DEAD_LETTER');
      assert.match(failed.error.message, /delivered 2 times without an outcome/);
    } finally {
      await w.kill('SIGKILL');
    }
  });

  it('the CLI runs on the server with live progress, and shows status and logs', async () => {
    const r = await runNoetl(['run', 'reliability/chain', '--server', url, '--set', 'sleep=50'], { cwd: ws.root });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ {2}✓ c4 /m);
    const id = /execution ([0-9a-f-]{36})/.exec(r.stdout)![1]!;
    const s = await runNoetl(['status', id, '--server', url], { cwd: ws.root });
    assert.match(s.stdout, new RegExp(`^${id}  reliability/chain  completed`, 'm'));
    const logs = await runNoetl(['logs', '-f', id, '--server', url], { cwd: ws.root });
    assert.equal(logs.code, 0);
    assert.equal(logs.stdout.split('\n').filter((l) => l.includes('✓')).length, 4);
    const missing = await runNoetl(['status', '00000000-0000-0000-0000-000000000000', '--server', url], { cwd: ws.root });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /E_EXECUTION_NOT_FOUND/);
  });

  it('refuses to start a worker for a pool nobody declared, or without NATS', async () => {
    const r = await runNoetl(['worker', '--pool', 'gpus'], { cwd: ws.root, env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_CONFIG_INVALID: pool "gpus" is not declared in NOETL_POOLS/);
    const n = await runNoetl(['server'], { cwd: ws.root, env: { ...env, NOETL_NATS_URL: '' } });
    assert.equal(n.code, 1);
    assert.match(n.stderr, /needs NATS JetStream: set NOETL_NATS_URL/);
  });
});
