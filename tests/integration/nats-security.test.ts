/**
 * NATS with credentials, as the README tells an operator to run it: the
 * authorization block of the README's Distributed mode section, started as
 * written, with a server user and a worker user; a token and an nkey; and NATS
 * over TLS with client certificates made here with openssl. The worker user may publish events but
 * not commands, and sees nothing of another deployment; no password is printed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, nkeys, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { JetStreamBus, loadConfig } from '../../platform/index.ts';
import { runNoetl } from '../helpers/cli.ts';
import { freePort, startNatsServer, type TestNatsServer } from '../helpers/nats-server.ts';
import { freshPostgres, type FreshDatabase } from '../helpers/postgres.ts';
import { spawnNoetl, type NoetlProcess } from '../helpers/processes.ts';
import { fixtureTree, REPO_ROOT, tempDir, workspace } from '../helpers/workspace.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The README's nats-server configuration: the ```conf block that holds an authorization. */
function readmeAuthorization(): string {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```conf\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes('authorization {'));
  assert.ok(block, 'the README shows a nats-server authorization block');
  return block;
}

/** Statuses of a raw connection's refusals, by subject. */
function refusals(nc: NatsConnection): string[] {
  const seen: string[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'error' && s.error.name === 'PermissionViolationError') seen.push(s.error.message);
    }
  })();
  return seen;
}

describe('NATS credentials and permissions: the README configuration with a server user and a worker user', () => {
  const ws = workspace();
  const serverPassword = `srv-${randomBytes(12).toString('hex')}`;
  const workerPassword = `wrk-${randomBytes(12).toString('hex')}`;
  const server = { user: 'noetl-server', password: serverPassword };
  const worker = { user: 'noetl-worker', password: workerPassword };
  let nats: TestNatsServer;
  let db: FreshDatabase;
  let pool: pg.Pool;
  let env: Record<string, string>;
  let url: string;
  const processes: NoetlProcess[] = [];

  before(async () => {
    fs.cpSync(path.join(REPO_ROOT, 'tests/fixtures/domains/reliability'), path.join(ws.domains, 'reliability'), { recursive: true });
    [nats, db] = await Promise.all([
      startNatsServer({ config: readmeAuthorization(), env: { NOETL_SERVER_PASSWORD: serverPassword, NOETL_WORKER_PASSWORD: workerPassword } }),
      freshPostgres(),
    ]);
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    env = { NOETL_DATABASE_URL: db.url, NOETL_HOME: ws.home, NOETL_DOMAINS_DIR: ws.domains, NOETL_PORT: String(port), NOETL_POOLS: 'default:cpu@64', NOETL_LOG_LEVEL: 'warn' };
  });

  after(async () => {
    for (const p of processes) await p.kill('SIGKILL');
    await pool?.end();
    await nats?.stop();
    await db?.drop();
    ws.cleanup();
  });

  const serverUrl = (): string => nats.url.replace('nats://', `nats://${server.user}:${server.password}@`);
  const workerEnv = (): Record<string, string> => ({ ...env, NOETL_NATS_URL: nats.url, NOETL_NATS_USER: worker.user, NOETL_NATS_PASSWORD: worker.password });
  const asWorker = (deployment?: string) => JetStreamBus.connect({ url: nats.url, role: 'worker', credentials: worker, ...(deployment ? { deployment } : {}) });

  async function start(playbook: string, workload: Record<string, unknown> = {}): Promise<string> {
    const res = await fetch(`${url}/api/v1/executions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ playbook, workload }) });
    const body = (await res.json()) as { id: string };
    assert.equal(res.status, 201, JSON.stringify(body));
    return body.id;
  }
  async function ended(id: string): Promise<string> {
    for (const deadline = Date.now() + 45_000; Date.now() < deadline; await sleep(100)) {
      const r = await pool.query<{ status: string }>('SELECT status FROM executions WHERE id = $1', [id]);
      if (r.rows[0] && r.rows[0].status !== 'running') return r.rows[0].status;
    }
    throw new Error(`execution ${id} did not end\n${processes.map((p) => p.output()).join('\n')}`);
  }

  it('a worker user may not create streams: a worker started before any server stops with E_BUS_FORBIDDEN, saying why', async () => {
    const r = await runNoetl(['worker', '--pool', 'default'], { cwd: ws.root, env: workerEnv() });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /E_BUS_FORBIDDEN/);
    assert.match(r.stderr, /noetl server` to have created them first/);
    assert.ok(!(r.stdout + r.stderr).includes(workerPassword));
  });

  it('runs executions end to end, server on the server user and worker on the worker user, cancellation included; no password printed', async () => {
    const serverProcess = spawnNoetl(['server'], ws.root, { ...env, NOETL_NATS_URL: serverUrl() });
    processes.push(serverProcess);
    await serverProcess.waitFor(/noetl server at/);
    const workerProcess = spawnNoetl(['worker', '--pool', 'default', '--concurrency', '4'], ws.root, workerEnv());
    processes.push(workerProcess);
    await workerProcess.waitFor(/serving pool/);
    const ids = await Promise.all([start('reliability/slow_build', { sleep: 100 }), start('reliability/fan_out', { sleep: 50 })]);
    assert.deepEqual(await Promise.all(ids.map(ended)), ['completed', 'completed']);
    const published = await pool.query("SELECT 1 FROM materializations WHERE execution_id = $1 AND status = 'published'", [ids[0]]);
    assert.equal(published.rowCount, 1, 'the worker published the product');

    const slow = await start('reliability/slow_build', { sleep: 8000 });
    for (let i = 0; i < 100; i++) {
      const started = await pool.query("SELECT 1 FROM events WHERE execution_id = $1 AND type = 'step.started'", [slow]);
      if (started.rowCount) break;
      await sleep(100);
    }
    const t0 = Date.now();
    const res = await fetch(`${url}/api/v1/executions/${slow}/cancel`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 202);
    assert.equal(await ended(slow), 'cancelled');
    for (let i = 0; i < 50; i++) {
      const failed = await pool.query<{ code: string }>("SELECT payload->'error'->>'code' AS code FROM events WHERE execution_id = $1 AND type = 'step.failed'", [slow]);
      if (failed.rows[0]) {
        assert.equal(failed.rows[0].code, 'E_CANCELLED', 'the worker heard the cancellation');
        break;
      }
      assert.ok(i < 49, 'the running step reported its cancellation');
      await sleep(100);
    }
    assert.ok(Date.now() - t0 < 6000, 'the step stopped long before its 8 s sleep');
    for (const p of processes) {
      assert.ok(!p.output().includes(serverPassword) && !p.output().includes(workerPassword), `no password in the output of a process:\n${p.output()}`);
    }
    assert.match(serverProcess.output(), new RegExp(`bus ${nats.url.replace(/[/.]/g, '\\$&')} \\(deployment noetl\\)`), 'the URL is printed without its credentials');
  });

  it("refuses a worker user's command at once, not retryable, and nothing reaches the commands stream; its events go through", async () => {
    const admin = await connect({ servers: nats.url, user: server.user, pass: server.password, inboxPrefix: '_INBOX_noetl.server' });
    const bus = await asWorker();
    try {
      const jsm = await jetstreamManager(admin);
      const before = (await jsm.streams.info('NOETL_COMMANDS')).state.last_seq;
      const t0 = Date.now();
      await assert.rejects(bus.publish(bus.names.subjects.commands('default'), { forged: true }, { msgId: randomUUID() }), (e: unknown) => {
        const error = e as { code?: string; retryable?: boolean; message: string };
        return error.code === 'E_BUS_FORBIDDEN' && error.retryable === false && error.message.includes('noetl.commands.default');
      });
      await assert.rejects(bus.broadcast(bus.names.subjects.cancel, { executionId: 'x', reason: 'forged' }), { code: 'E_BUS_FORBIDDEN' });
      assert.ok(Date.now() - t0 < 2000, `refused at once (${Date.now() - t0} ms), not after a minute of retries`);
      assert.equal((await jsm.streams.info('NOETL_COMMANDS')).state.last_seq, before, 'the stream never saw the command');

      // An event is allowed, and the server, which knows no such execution, keeps it instead of dropping it.
      const eventId = `forged-${randomUUID()}`;
      const executionId = randomUUID();
      await bus.publish(bus.names.subjects.events(executionId), [{ type: 'step.started', step: 'x', attempt: 1, worker: 'w', eventId, executionId, at: new Date().toISOString() }], { msgId: eventId });
      let kept: { execution_id: string; type: string }[] = [];
      for (let i = 0; i < 100 && kept.length === 0; i++) {
        await sleep(100);
        kept = (await pool.query<{ execution_id: string; type: string }>('SELECT execution_id, type FROM unknown_events WHERE event_id = $1', [eventId])).rows;
      }
      assert.deepEqual(kept, [{ execution_id: executionId, type: 'step.started' }]);
      assert.match(processes[0]!.output(), new RegExp(`unknown execution.*${eventId}`), 'logged as an error, with the event id');
    } finally {
      await bus.close();
      await admin.close();
    }
  });

  it("keeps a worker user out of events, consumers and everything of another deployment", async () => {
    const spy = await connect({ servers: nats.url, user: worker.user, pass: worker.password, inboxPrefix: '_INBOX_noetl.worker' });
    const refused = refusals(spy);
    try {
      const jsm = await jetstreamManager(spy, { checkAPI: false });
      await assert.rejects(jsm.consumers.add('NOETL_EVENTS', { durable_name: 'spy', filter_subject: 'noetl.events.>' }), /Permissions Violation/);
      await assert.rejects(jsm.streams.add({ name: 'SPY', subjects: ['spy.>'] }), /Permissions Violation/);
      // What dead letters need is granted: a missing message is "not found", not a refusal.
      for (const attempt of [() => jsm.streams.getMessage('NOETL_COMMANDS', { seq: 1_000_000 }), () => jsm.streams.deleteMessage('NOETL_COMMANDS', 1_000_000)]) {
        const outcome = await attempt().then(() => 'answered', (e: Error) => e.message);
        assert.doesNotMatch(outcome, /Permissions Violation/);
      }
      for (const subject of ['noetl.events.>', 'other.events.>', 'other.control.cancel', '_INBOX.>', '_INBOX_other.worker.>', '_INBOX_noetl.server.>']) spy.subscribe(subject);
      await spy.flush();
      await sleep(200);
      for (const subject of ['noetl.events.>', 'other.events.>', 'other.control.cancel', '_INBOX.>', '_INBOX_other.worker.>', '_INBOX_noetl.server.>']) {
        assert.ok(refused.some((m) => m.includes(`Subscription to "${subject}"`)), `subscribing to ${subject} is refused (${refused.join('; ')})`);
      }
    } finally {
      await spy.close();
    }
    await assert.rejects(asWorker('other'), (e: unknown) => (e as { code?: string }).code === 'E_BUS_FORBIDDEN');
    await assert.rejects(JetStreamBus.connect({ url: nats.url, credentials: server, deployment: 'other' }), { code: 'E_BUS_FORBIDDEN' });
  });

  it('refuses wrong credentials with E_BUS_FORBIDDEN and never shows the password', async () => {
    const wrong = `${workerPassword}-not`;
    await assert.rejects(JetStreamBus.connect({ url: nats.url, credentials: { user: worker.user, password: wrong } }), (e: unknown) => {
      return (e as { code?: string }).code === 'E_BUS_FORBIDDEN' && (e as { retryable?: boolean }).retryable === false && !(e as Error).message.includes(wrong);
    });
    const r = await runNoetl(['worker', '--pool', 'default'], { cwd: ws.root, env: { ...env, NOETL_NATS_URL: nats.url.replace('nats://', `nats://${worker.user}:${wrong}@`) } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_BUS_FORBIDDEN: NATS at nats:\/\/127\.0\.0\.1:\d+ refused the credentials/);
    assert.ok(!(r.stdout + r.stderr).includes(wrong));
  });
});

describe('NATS authentication by token and by nkey', () => {
  const roundTrip = async (env: Record<string, string>, cwd: string): Promise<unknown[]> => {
    const config = loadConfig(env, cwd);
    const bus = await JetStreamBus.connect({ url: config.natsUrl!, credentials: config.natsCredentials });
    try {
      const got: unknown[] = [];
      const subject = bus.names.subjects.commands('auth');
      const sub = bus.consume({ durable: 'auth', filter: subject, concurrency: 1 }, (m) => {
        got.push(m.data);
        m.ack();
        return Promise.resolve();
      });
      await sub.ready;
      await bus.publish(subject, { ok: true }, { msgId: randomUUID() });
      for (let i = 0; i < 100 && got.length === 0; i++) await sleep(50);
      await sub.stop();
      return got;
    } finally {
      await bus.close();
    }
  };

  it('connects with a token, from NOETL_NATS_TOKEN or the URL, and is refused with a wrong one', async () => {
    const token = `tok-${randomBytes(12).toString('hex')}`;
    const nats = await startNatsServer({ config: 'authorization { token: $NOETL_TEST_TOKEN }\n', env: { NOETL_TEST_TOKEN: token } });
    try {
      assert.deepEqual(await roundTrip({ NOETL_NATS_URL: nats.url, NOETL_NATS_TOKEN: token }, process.cwd()), [{ ok: true }]);
      assert.deepEqual(await roundTrip({ NOETL_NATS_URL: nats.url.replace('nats://', `nats://${token}@`) }, process.cwd()), [{ ok: true }]);
      await assert.rejects(roundTrip({ NOETL_NATS_URL: nats.url, NOETL_NATS_TOKEN: `${token}x` }, process.cwd()), (e: unknown) => {
        return (e as { code?: string }).code === 'E_BUS_FORBIDDEN' && !(e as Error).message.includes(token);
      });
    } finally {
      await nats.stop();
    }
  });

  it('connects with an nkey seed file, and is refused with another key', async () => {
    const user = nkeys.createUser();
    const dir = fixtureTree({ 'user.nk': new TextDecoder().decode(user.getSeed()), 'other.nk': new TextDecoder().decode(nkeys.createUser().getSeed()) });
    const nats = await startNatsServer({ config: `authorization { users: [ { nkey: ${user.getPublicKey()} } ] }\n` });
    try {
      assert.deepEqual(await roundTrip({ NOETL_NATS_URL: nats.url, NOETL_NATS_NKEY_FILE: 'user.nk' }, dir), [{ ok: true }]);
      await assert.rejects(roundTrip({ NOETL_NATS_URL: nats.url, NOETL_NATS_NKEY_FILE: 'other.nk' }, dir), { code: 'E_BUS_FORBIDDEN' });
    } finally {
      await nats.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('NATS over TLS, with a CA and client certificates made by openssl', () => {
  const dir = tempDir('noetl-tls-');
  const file = (name: string): string => path.join(dir, name);
  let nats: TestNatsServer;

  before(async () => {
    const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=noetl test CA', '-keyout', 'ca-key.pem', '-out', 'ca.pem');
    fs.writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server-key.pem', '-out', 'server.csr');
    openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '2', '-extfile', 'server.ext', '-out', 'server.pem');
    fs.writeFileSync(file('client.ext'), 'extendedKeyUsage=clientAuth\n');
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=noetl-worker', '-keyout', 'client-key.pem', '-out', 'client.csr');
    openssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '2', '-extfile', 'client.ext', '-out', 'client.pem');
    const config = `tls {\n  cert_file: "${file('server.pem')}"\n  key_file: "${file('server-key.pem')}"\n  ca_file: "${file('ca.pem')}"\n  verify: true\n  timeout: 2\n}\n`;
    nats = await startNatsServer({ config });
  });

  after(async () => {
    await nats?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const busWith = (env: Record<string, string>) => {
    const config = loadConfig({ NOETL_NATS_URL: nats.url, ...env });
    return JetStreamBus.connect({ url: config.natsUrl!, credentials: config.natsCredentials, publishTimeoutMs: 5000, connectTimeoutMs: 3000 });
  };

  for (const scheme of ['nats', 'tls']) {
    it(`carries messages over TLS with the CA and the client certificate of NOETL_NATS_TLS_* (${scheme}:// URL)`, async () => {
      const bus = await busWith({
        NOETL_NATS_URL: nats.url.replace('nats://', `${scheme}://`),
        NOETL_NATS_TLS_CA: file('ca.pem'),
        NOETL_NATS_TLS_CERT: file('client.pem'),
        NOETL_NATS_TLS_KEY: file('client-key.pem'),
      });
      try {
        const got: unknown[] = [];
        const subject = bus.names.subjects.commands(`tls-${scheme}`);
        const sub = bus.consume({ durable: `tls-${scheme}`, filter: subject, concurrency: 1 }, (m) => {
          got.push(m.data);
          m.ack();
          return Promise.resolve();
        });
        await sub.ready;
        await bus.publish(subject, { over: 'tls' }, { msgId: randomUUID() });
        for (let i = 0; i < 100 && got.length === 0; i++) await sleep(50);
        assert.deepEqual(got, [{ over: 'tls' }]);
        await sub.stop();
      } finally {
        await bus.close();
      }
    });
  }

  it('gets no connection without a client certificate, without the CA that signed the server, or without TLS', async () => {
    const refusal = (env: Record<string, string>): Promise<string> =>
      busWith(env).then(
        async (bus) => {
          await bus.close();
          return 'connected';
        },
        (e: unknown) => String((e as { code?: string }).code),
      );
    // Under TLS 1.3 the server's refusal of a missing certificate reaches nats.js only as silence: it ends at the connect timeout.
    assert.equal(await refusal({ NOETL_NATS_TLS_CA: file('ca.pem') }), 'E_BUS_UNAVAILABLE');
    assert.equal(await refusal({ NOETL_NATS_TLS_CERT: file('client.pem'), NOETL_NATS_TLS_KEY: file('client-key.pem') }), 'E_BUS_UNAVAILABLE');
    assert.equal(await refusal({}), 'E_BUS_UNAVAILABLE');
  });
});
