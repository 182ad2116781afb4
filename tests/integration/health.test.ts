/**
 * `GET /health` reports the database and the bus one by one and answers 503,
 * coded, when either is down: the test's own nats-server is stopped, the
 * database closed. In-process bus on PGlite, and JetStream on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createLogger, JetStreamBus, MemoryBus, migrate, openDatabase, type Bus, type Database } from '../../platform/index.ts';
import { buildApp } from '../../services/registry/index.ts';
import { startNatsServer } from '../helpers/nats-server.ts';
import { freshPostgres } from '../helpers/postgres.ts';

interface Health {
  status: string;
  mode: string;
  checks: Record<string, string>;
  error?: { code: string; message: string };
}

async function health(app: FastifyInstance): Promise<{ status: number; body: Health; ms: number }> {
  const t0 = Date.now();
  const res = await app.inject({ method: 'GET', url: '/health' });
  return { status: res.statusCode, body: res.json<Health>(), ms: Date.now() - t0 };
}

async function appOn(database: Database, bus: Bus | undefined, mode: 'embedded' | 'distributed'): Promise<FastifyInstance> {
  await migrate(database);
  return buildApp({ db: database.db, log: createLogger({ level: 'error' }), mode, ...(bus ? { bus } : {}) });
}

describe('GET /health', () => {
  it('in-process bus on PGlite: ok, then 503 naming the bus once it is closed, then the database once it is closed', async () => {
    const database = await openDatabase({ kind: 'embedded', dataDir: undefined });
    const bus = new MemoryBus();
    const app = await appOn(database, bus, 'embedded');
    try {
      assert.deepEqual((await health(app)).body, { status: 'ok', mode: 'embedded', checks: { database: 'ok', bus: 'ok' } });
      await bus.close();
      const busDown = await health(app);
      assert.equal(busDown.status, 503);
      assert.deepEqual(busDown.body.checks, { database: 'ok', bus: 'down' });
      assert.equal(busDown.body.status, 'down');
      assert.equal(busDown.body.error?.code, 'E_BUS_UNAVAILABLE');
      await database.close();
      const bothDown = await health(app);
      assert.equal(bothDown.status, 503);
      assert.deepEqual(bothDown.body.checks, { database: 'down', bus: 'down' });
      assert.equal(bothDown.body.error?.code, 'E_DATABASE_UNAVAILABLE');
    } finally {
      await app.close();
      await database.close();
    }
  });

  it('JetStream on PostgreSQL: 503 within the deadline while the nats-server is stopped, ok once it is back, 503 when the database is closed', async () => {
    const nats = await startNatsServer();
    const fresh = await freshPostgres();
    const database = await openDatabase({ kind: 'postgres', url: fresh.url });
    const bus = await JetStreamBus.connect({ url: nats.url });
    const app = await appOn(database, bus, 'distributed');
    try {
      assert.deepEqual((await health(app)).body, { status: 'ok', mode: 'distributed', checks: { database: 'ok', bus: 'ok' } });
      await nats.stop();
      const down = await health(app);
      assert.equal(down.status, 503);
      assert.deepEqual(down.body.checks, { database: 'ok', bus: 'down' });
      assert.equal(down.body.error?.code, 'E_BUS_UNAVAILABLE');
      assert.ok(down.ms < 2_500, `answered in ${down.ms} ms, not after the connection's own timeouts`);
      await nats.start();
      const until = Date.now() + 10_000;
      let back = await health(app);
      while (back.status !== 200 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 200));
        back = await health(app);
      }
      assert.deepEqual(back.body.checks, { database: 'ok', bus: 'ok' });
      await database.close();
      const dbDown = await health(app);
      assert.equal(dbDown.status, 503);
      assert.deepEqual(dbDown.body.checks, { database: 'down', bus: 'ok' });
      assert.equal(dbDown.body.error?.code, 'E_DATABASE_UNAVAILABLE');
    } finally {
      await app.close();
      await bus.close();
      await database.close().catch(() => undefined);
      await fresh.drop();
      await nats.stop();
    }
  });

  it('an app without a bus (one that only reads) reports the database alone', async () => {
    const database = await openDatabase({ kind: 'embedded', dataDir: undefined });
    const app = await appOn(database, undefined, 'embedded');
    try {
      assert.deepEqual((await health(app)).body, { status: 'ok', mode: 'embedded', checks: { database: 'ok' } });
    } finally {
      await app.close();
      await database.close();
    }
  });
});
