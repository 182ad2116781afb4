/** The bus conformance suite against every adapter available here: in-process, and JetStream on a real nats-server. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { HEADER_ALLOWANCE_BYTES, JetStreamBus, MemoryBus } from '../../platform/bus/index.ts';
import { busConformance } from '../conformance/bus-suite.ts';
import { freePort, startNatsServer, type TestNatsServer } from '../helpers/nats-server.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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

describe('JetStream adapter: limits and deployments', () => {
  it("takes its maximum message size from the server's max_payload, and refuses larger messages at once", async () => {
    const small = await startNatsServer({ config: 'max_payload: 65536\n' });
    const bus = await JetStreamBus.connect({ url: small.url, publishTimeoutMs: 30_000 });
    try {
      assert.equal(bus.maxMessageBytes, 65536 - HEADER_ALLOWANCE_BYTES);
      const subject = bus.names.subjects.commands('limits');
      await bus.publish(subject, { pad: 'x'.repeat(bus.maxMessageBytes - 10) }, { msgId: randomUUID() });
      const t0 = Date.now();
      await assert.rejects(bus.publish(subject, { pad: 'x'.repeat(bus.maxMessageBytes - 9) }, { msgId: randomUUID() }), { code: 'E_MESSAGE_TOO_LARGE' });
      // Within the limit, but its message id takes the headers past max_payload: NATS's own refusal, coded the same.
      await assert.rejects(bus.publish(subject, { pad: 'x'.repeat(bus.maxMessageBytes - 10) }, { msgId: 'm'.repeat(5000) }), (e: unknown) => {
        const error = e as { code?: string; retryable?: boolean };
        return error.code === 'E_MESSAGE_TOO_LARGE' && error.retryable === false;
      });
      assert.ok(Date.now() - t0 < 1000, 'no retrying for 30 s');
    } finally {
      await bus.close();
      await small.stop();
    }
  });

  it('keeps two deployments on one server apart: streams, durables, subjects and control messages', async () => {
    const shared = await startNatsServer();
    const a = await JetStreamBus.connect({ url: shared.url, deployment: 'team-a' });
    const b = await JetStreamBus.connect({ url: shared.url, deployment: 'team-b' });
    try {
      const got: string[] = [];
      const consume = (bus: JetStreamBus) =>
        bus.consume<{ from: string }>({ durable: bus.names.durables.workers('default'), filter: bus.names.subjects.commands('default'), concurrency: 1 }, (m) => {
          got.push(`${bus.names.deployment} got ${m.data.from} on ${m.subject}`);
          m.ack();
          return Promise.resolve();
        });
      const subs = [consume(a), consume(b)];
      await Promise.all(subs.map((s) => s.ready));
      const heard: string[] = [];
      const listeners = [a, b].map((bus) => bus.listen(bus.names.subjects.allControl, (_d, s) => heard.push(`${bus.names.deployment} heard ${s}`)));
      await sleep(100);
      await a.publish(a.names.subjects.commands('default'), { from: 'a' }, { msgId: 'same-id' });
      await b.publish(b.names.subjects.commands('default'), { from: 'b' }, { msgId: 'same-id' });
      await a.broadcast(a.names.subjects.cancel, {});
      for (let i = 0; i < 100 && (got.length < 2 || heard.length < 1); i++) await sleep(50);
      await sleep(300);
      assert.deepEqual(got.sort(), ['team-a got a on team-a.commands.default', 'team-b got b on team-b.commands.default'], 'same durable name, same message id: each deployment its own');
      assert.deepEqual(heard, ['team-a heard team-a.control.cancel']);
      for (const l of listeners) l.unsubscribe();
      for (const s of subs) await s.stop();
      const nc = await connect({ servers: shared.url });
      try {
        const jsm = await jetstreamManager(nc);
        const streams = (await jsm.streams.list().next()).map((s) => `${s.config.name} ${s.config.subjects.join(',')}`).sort();
        assert.deepEqual(streams, [
          'TEAM-A_COMMANDS team-a.commands.>',
          'TEAM-A_EVENTS team-a.events.>',
          'TEAM-A_LINEAGE team-a.lineage.>',
          'TEAM-B_COMMANDS team-b.commands.>',
          'TEAM-B_EVENTS team-b.events.>',
          'TEAM-B_LINEAGE team-b.lineage.>',
        ]);
      } finally {
        await nc.close();
      }
    } finally {
      await a.close();
      await b.close();
      await shared.stop();
    }
  });

  it('refuses a deployment name that cannot be a subject token or stream name, naming the variable', async () => {
    for (const bad of ['Team', 'a.b', 'a>', 'a b', '', '-a', 'x'.repeat(33)]) {
      await assert.rejects(JetStreamBus.connect({ url: nats.url, deployment: bad }), (e: unknown) => (e as { code?: string }).code === 'E_CONFIG_INVALID' && /NOETL_DEPLOYMENT|deployment name/.test((e as Error).message), bad);
    }
  });
});
