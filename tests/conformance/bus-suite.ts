/**
 * The bus port's conformance suite. Every adapter runs the same cases:
 * at-least-once delivery, explicit ack, redelivery after the ack deadline and
 * after a nak, in-progress acks, dead letters after max deliveries, duplicate
 * publishes dropped by message id, work shared between consumers of one durable,
 * durables declared before anyone consumes, one maximum message size, refused
 * at once and for good, and a ping that answers while the bus is open.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { DEFAULT_MAX_MESSAGE_BYTES, type Bus, type Delivery } from '../../platform/bus/index.ts';

export interface BusAdapter {
  name: string;
  /** A bus with fresh streams; `close` releases it. */
  open(): Promise<Bus>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for a condition');
    await sleep(10);
  }
}

export function busConformance(adapter: BusAdapter): void {
  describe(`bus conformance: ${adapter.name}`, () => {
    const subject = (bus: Bus): string => bus.names.subjects.commands(`t${randomUUID().slice(0, 8)}`);

    it('delivers each message once to a consumer that acks, in order', async () => {
      const bus = await adapter.open();
      const s = subject(bus);
      const got: number[] = [];
      const sub = bus.consume<{ i: number }>({ durable: `d-${randomUUID()}`, filter: s, concurrency: 1 }, (m) => {
        got.push(m.data.i);
        m.ack();
        return Promise.resolve();
      });
      for (let i = 0; i < 20; i++) await bus.publish(s, { i }, { msgId: randomUUID() });
      await until(() => got.length === 20);
      await sleep(100);
      assert.deepEqual(got, [...Array(20).keys()]);
      await sub.stop();
      await bus.close();
    });

    it('keeps messages published before the consumer exists', async () => {
      const bus = await adapter.open();
      const s = subject(bus);
      await bus.publish(s, { early: true }, { msgId: randomUUID() });
      const got: unknown[] = [];
      const sub = bus.consume({ durable: `d-${randomUUID()}`, filter: s, concurrency: 1 }, (m) => {
        got.push(m.data);
        m.ack();
        return Promise.resolve();
      });
      await until(() => got.length === 1);
      assert.deepEqual(got, [{ early: true }]);
      await sub.stop();
      await bus.close();
    });

    it('drops a publish whose message id was already seen', async () => {
      const bus = await adapter.open();
      const s = subject(bus);
      const id = randomUUID();
      await bus.publish(s, { n: 1 }, { msgId: id });
      await bus.publish(s, { n: 2 }, { msgId: id });
      await bus.publish(s, { n: 3 }, { msgId: randomUUID() });
      const got: unknown[] = [];
      const sub = bus.consume<{ n: number }>({ durable: `d-${randomUUID()}`, filter: s, concurrency: 1 }, (m) => {
        got.push(m.data.n);
        m.ack();
        return Promise.resolve();
      });
      await until(() => got.length >= 2);
      await sleep(200);
      assert.deepEqual(got, [1, 3]);
      await sub.stop();
      await bus.close();
    });

    it('redelivers a message that was not acked within the ack deadline', async () => {
      const bus = await adapter.open();
      const s = subject(bus);
      const counts: number[] = [];
      const sub = bus.consume({ durable: `d-${randomUUID()}`, filter: s, concurrency: 1, ackWaitMs: 300 }, (m) => {
        counts.push(m.deliveryCount);
        if (m.deliveryCount >= 2) m.ack();
        return Promise.resolve();
      });
      await bus.publish(s, {}, { msgId: randomUUID() });
      await until(() => counts.length === 2);
      await sleep(500);
      assert.deepEqual(counts, [1, 2]);
      await sub.stop();
      await bus.close();
    });

    it('redelivers after a nak, and after a handler throws', async () => {
      const bus = await adapter.open();
      const s = subject(bus);
      const counts: number[] = [];
      const sub = bus.consume({ durable: `d-${randomUUID()}`, filter: s, concurrency: 1, ackWaitMs: 10_000 }, (m) => {
        counts.push(m.deliveryCount);
        if (m.deliveryCount === 1) m.nak();
        else if (m.deliveryCount === 2) throw new Error('handler failed');
        else m.ack();
        return Promise.resolve();
      });
      await bus.publish(s, {}, { msgId: randomUUID() });
      await until(() => counts.length === 3);
      assert.deepEqual(counts, [1, 2, 3]);
      await sub.stop();
      await bus.close();
    });

    it('in-progress acks keep a long-running message from being redelivered', async () => {
      const bus = await adapter.open();
      const s = subject(bus);
      const counts: number[] = [];
      const sub = bus.consume({ durable: `d-${randomUUID()}`, filter: s, concurrency: 1, ackWaitMs: 400 }, async (m) => {
        counts.push(m.deliveryCount);
        for (let i = 0; i < 6; i++) {
          await sleep(150);
          m.working();
        }
        m.ack();
      });
      await bus.publish(s, {}, { msgId: randomUUID() });
      await until(() => counts.length >= 1);
      await sleep(1400);
      assert.deepEqual(counts, [1], 'ran 900 ms with a 400 ms deadline, never redelivered');
      await sub.stop();
      await bus.close();
    });

    it('hands a message to the dead-letter callback after max deliveries', async () => {
      const bus = await adapter.open();
      const s = subject(bus);
      let deliveries = 0;
      const dead: { data: unknown; n: number }[] = [];
      const sub = bus.consume(
        { durable: `d-${randomUUID()}`, filter: s, concurrency: 1, ackWaitMs: 10_000, maxDeliver: 3, onDeadLetter: (_s, data, n) => dead.push({ data, n }) },
        (m: Delivery) => {
          deliveries++;
          m.nak();
          return Promise.resolve();
        },
      );
      await bus.publish(s, { poison: true }, { msgId: randomUUID() });
      await until(() => dead.length === 1);
      await sleep(200);
      assert.equal(deliveries, 3);
      assert.deepEqual(dead, [{ data: { poison: true }, n: 3 }]);
      await sub.stop();
      await bus.close();
    });

    it('shares the work of one durable between its consumers, each message once', async () => {
      const bus = await adapter.open();
      const s = subject(bus);
      const durable = `d-${randomUUID()}`;
      const seen: { who: string; i: number }[] = [];
      const make = (who: string) =>
        bus.consume<{ i: number }>({ durable, filter: s, concurrency: 1 }, async (m) => {
          seen.push({ who, i: m.data.i });
          await sleep(5);
          m.ack();
        });
      const a = make('a');
      const b = make('b');
      for (let i = 0; i < 40; i++) await bus.publish(s, { i }, { msgId: randomUUID() });
      await until(() => seen.length === 40);
      await sleep(200);
      assert.equal(seen.length, 40);
      assert.deepEqual(seen.map((x) => x.i).sort((x, y) => x - y), [...Array(40).keys()]);
      assert.ok(seen.some((x) => x.who === 'a') && seen.some((x) => x.who === 'b'), 'both consumers took work');
      await a.stop();
      await b.stop();
      await bus.close();
    });

    it('gives each durable its own copy of a message', async () => {
      const bus = await adapter.open();
      const s = bus.names.subjects.events(randomUUID().slice(0, 8));
      const got: string[] = [];
      const subs = ['x', 'y'].map((name) =>
        bus.consume({ durable: `${name}-${randomUUID()}`, filter: bus.names.subjects.allEvents, concurrency: 1 }, (m) => {
          if (m.subject === s) got.push(name);
          m.ack();
          return Promise.resolve();
        }),
      );
      await sleep(100);
      await bus.publish(s, {}, { msgId: randomUUID() });
      await until(() => got.length === 2);
      assert.deepEqual(got.sort(), ['x', 'y']);
      for (const sub of subs) await sub.stop();
      await bus.close();
    });

    it('broadcasts control messages to every listener whose filter matches', async () => {
      const bus = await adapter.open();
      const got: string[] = [];
      const { allControl, cancel, workers } = bus.names.subjects;
      const a = bus.listen<{ n: number }>(allControl, (d, s) => got.push(`a:${s}:${d.n}`));
      const b = bus.listen<{ n: number }>(cancel, (d) => got.push(`b:${d.n}`));
      await sleep(100);
      await bus.broadcast(cancel, { n: 1 });
      await bus.broadcast(workers, { n: 2 });
      await until(() => got.length === 3);
      assert.deepEqual(got.sort(), [`a:${cancel}:1`, `a:${workers}:2`, 'b:1']);
      a.unsubscribe();
      b.unsubscribe();
      await bus.broadcast(cancel, { n: 3 });
      await sleep(100);
      assert.equal(got.length, 3, 'no delivery after unsubscribe');
      await bus.close();
    });

    it('refuses to publish once closed, with a coded error', async () => {
      const bus = await adapter.open();
      await bus.close();
      await assert.rejects(bus.publish(subject(bus), {}, { msgId: randomUUID() }), { code: 'E_BUS_CLOSED' });
    });

    it('keeps messages for a declared durable until someone consumes it, with the declared redelivery', async () => {
      const bus = await adapter.open();
      const s = subject(bus);
      const durable = `d-${randomUUID()}`;
      await bus.declare({ durable, filter: s, ackWaitMs: 300, maxDeliver: 3 });
      await bus.publish(s, { i: 1 }, { msgId: randomUUID() });
      const counts: number[] = [];
      const sub = bus.consume<{ i: number }>({ durable, filter: s, concurrency: 1, ackWaitMs: 300, maxDeliver: 3 }, (m) => {
        counts.push(m.deliveryCount);
        if (m.deliveryCount === 2) m.ack();
        return Promise.resolve();
      });
      await sub.ready;
      await until(() => counts.length === 2);
      await sleep(500);
      assert.deepEqual(counts, [1, 2], 'kept before the consumer came, redelivered once after 300 ms');
      await sub.stop();
      await bus.close();
    });

    it('takes a message of exactly its maximum size, and refuses one byte more at once, for good', async () => {
      const bus = await adapter.open();
      const max = bus.maxMessageBytes;
      assert.ok(max >= 60_000 && max <= DEFAULT_MAX_MESSAGE_BYTES, `a limit near nats-server's max_payload (${max})`);
      // `{"pad":"…"}`: 10 bytes of JSON around the padding.
      const sized = (bytes: number) => ({ pad: 'x'.repeat(bytes - 10) });
      assert.equal(Buffer.byteLength(JSON.stringify(sized(max))), max);
      const s = subject(bus);
      const got: number[] = [];
      const sub = bus.consume<{ pad: string }>({ durable: `d-${randomUUID()}`, filter: s, concurrency: 1 }, (m) => {
        got.push(m.data.pad.length);
        m.ack();
        return Promise.resolve();
      });
      await bus.publish(s, sized(max), { msgId: randomUUID() });
      const t0 = Date.now();
      await assert.rejects(bus.publish(s, sized(max + 1), { msgId: randomUUID() }), (e: unknown) => {
        const error = e as { code?: string; retryable?: boolean; message: string };
        return error.code === 'E_MESSAGE_TOO_LARGE' && error.retryable === false && error.message.includes(String(max));
      });
      // Multi-byte characters count as bytes, not characters.
      await assert.rejects(bus.publish(s, { pad: 'é'.repeat(Math.ceil(max / 2)) }, { msgId: randomUUID() }), { code: 'E_MESSAGE_TOO_LARGE' });
      await assert.rejects(bus.broadcast(bus.names.subjects.cancel, sized(max + 1)), { code: 'E_MESSAGE_TOO_LARGE' });
      assert.ok(Date.now() - t0 < 1000, 'refused at once, not after retrying');
      await until(() => got.length === 1);
      await sleep(200);
      assert.deepEqual(got, [max - 10], 'only the message within the limit arrived');
      await sub.stop();
      await bus.close();
    });

    it('answers a ping while open, and refuses it once closed, with a coded error', async () => {
      const bus = await adapter.open();
      await bus.ping();
      await bus.close();
      await assert.rejects(bus.ping(), { code: 'E_BUS_CLOSED' });
    });
  });
}
