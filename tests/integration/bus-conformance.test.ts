/** The bus conformance suite against every adapter available here: in-process, and JetStream on a real nats-server. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { JetStreamBus, MemoryBus } from '../../platform/bus/index.ts';
import { busConformance } from '../conformance/bus-suite.ts';
import { freePort, startNatsServer, type TestNatsServer } from '../helpers/nats-server.ts';

busConformance({ name: 'in-process', open: () => Promise.resolve(new MemoryBus()) });

let nats: TestNatsServer;
before(async () => {
  nats = await startNatsServer();
});
after(() => nats.stop());
busConformance({ name: 'JetStream', open: () => JetStreamBus.connect({ url: nats.url }) });

describe('JetStream adapter: start-up errors', () => {
  it('says clearly when the server has no JetStream', async () => {
    const plain = await startNatsServer({ jetstream: false });
    try {
      await assert.rejects(JetStreamBus.connect({ url: plain.url }), (e: unknown) => (e as { code?: string }).code === 'E_BUS_UNAVAILABLE' && /JetStream/.test((e as Error).message) && /-js/.test((e as Error).message));
    } finally {
      await plain.stop();
    }
  });

  it('says clearly when no server answers', async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    await assert.rejects(JetStreamBus.connect({ url }), (e: unknown) => (e as { code?: string }).code === 'E_BUS_UNAVAILABLE' && (e as Error).message.includes(url));
  });

  it('a ping fails with E_BUS_UNAVAILABLE within its timeout while the server is down, and answers again once it is back', async () => {
    const own = await startNatsServer();
    const bus = await JetStreamBus.connect({ url: own.url, pingTimeoutMs: 500 });
    try {
      await bus.ping();
      await own.stop();
      const t0 = Date.now();
      await assert.rejects(bus.ping(), (e: unknown) => (e as { code?: string }).code === 'E_BUS_UNAVAILABLE' && (e as Error).message.includes(own.url));
      assert.ok(Date.now() - t0 < 2_000, 'it did not wait for the connection');
      await own.start();
      const back = Date.now() + 10_000;
      for (;;) {
        try {
          await bus.ping();
          break;
        } catch (e) {
          if (Date.now() > back) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    } finally {
      await bus.close();
      await own.stop();
    }
  });

  it('creates its streams idempotently, with file storage', async () => {
    const a = await JetStreamBus.connect({ url: nats.url });
    const b = await JetStreamBus.connect({ url: nats.url });
    await a.close();
    await b.close();
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const streams = (await jsm.streams.list().next()).map((s) => [s.config.name, s.config.storage]).sort();
      assert.deepEqual(streams, [['NOETL_COMMANDS', 'file'], ['NOETL_EVENTS', 'file'], ['NOETL_LINEAGE', 'file']]);
    } finally {
      await nc.close();
    }
  });
});
