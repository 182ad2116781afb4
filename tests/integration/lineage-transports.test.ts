/** Lineage transports against the real things: a noetl registry over HTTP, a file, the in-process bus and JetStream. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BusLineageTransport, createLogger, FileLineageTransport, HttpLineageTransport, JetStreamBus, lineageTransports, loadConfig, MemoryBus, migrate, openDatabase, type Bus } from '../../platform/index.ts';
import { buildApp } from '../../services/registry/index.ts';
import { buildAll } from '../../cli/commands/dev.ts';
import { openRuntime } from '../../cli/runtime.ts';
import { lineageTransportConformance } from '../conformance/lineage-transport-suite.ts';
import { startNatsServer, type TestNatsServer } from '../helpers/nats-server.ts';
import { tempDir, workspace } from '../helpers/workspace.ts';

lineageTransportConformance({
  name: 'HTTP to a noetl registry',
  async open() {
    const database = await openDatabase({ kind: 'embedded', dataDir: undefined });
    await migrate(database);
    const app = await buildApp({ db: database.db, log: createLogger({ level: 'error' }), mode: 'embedded' });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    return {
      transport: new HttpLineageTransport(`${url}/api/v1/lineage`),
      received: async () => (await database.db.selectFrom('lineage_events').select('event').orderBy('id').execute()).map((r) => r.event),
      close: async () => {
        await app.close();
        await database.close();
      },
    };
  },
});

lineageTransportConformance({
  name: 'NDJSON file',
  open() {
    const file = path.join(tempDir(), 'lineage', 'events.ndjson');
    return Promise.resolve({
      transport: new FileLineageTransport(file),
      received: () => Promise.resolve(fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown) : []),
      close: () => Promise.resolve(),
    });
  },
});

function busAdapter(name: string, openBus: () => Promise<Bus>) {
  return {
    name,
    async open() {
      const bus = await openBus();
      const got: unknown[] = [];
      const prefix = `noetl.lineage.t${Math.random().toString(36).slice(2, 10)}`;
      const sub = bus.consume({ durable: `lineage-${Math.random().toString(36).slice(2)}`, filter: `${prefix}.>`, concurrency: 1 }, (m) => {
        got.push(m.data);
        m.ack();
        return Promise.resolve();
      });
      return {
        transport: new BusLineageTransport(bus, prefix),
        received: async () => {
          await new Promise((r) => setTimeout(r, 300));
          return got;
        },
        close: async () => {
          await sub.stop();
          await bus.close();
        },
      };
    },
  };
}

lineageTransportConformance(busAdapter('in-process bus', () => Promise.resolve(new MemoryBus())));

let nats: TestNatsServer;
before(async () => {
  nats = await startNatsServer();
});
after(() => nats.stop());
lineageTransportConformance(busAdapter('JetStream', () => JetStreamBus.connect({ url: nats.url })));

describe('lineage transports from configuration', () => {
  it('refuses a transport it does not know, naming the variable', () => {
    assert.throws(() => lineageTransports(['ftp://x'], new MemoryBus()), (e: unknown) => (e as { code?: string }).code === 'E_CONFIG_INVALID' && /NOETL_LINEAGE_TRANSPORTS|not an http/.test((e as Error).message));
  });

  it('a build sends every step\'s events to the configured file as well', async () => {
    const ws = workspace();
    const file = path.join(ws.root, 'ol.ndjson');
    const rt = await openRuntime(loadConfig({ NOETL_HOME: ws.home, NOETL_DOMAINS_DIR: ws.domains, NOETL_LOG_LEVEL: 'error', NOETL_LINEAGE_TRANSPORTS: `file:${file}` }));
    try {
      await buildAll(rt, () => undefined);
      await new Promise((r) => setTimeout(r, 200));
      const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { eventType: string; job: { name: string } });
      assert.ok(lines.some((e) => e.eventType === 'COMPLETE' && e.job.name === 'score_applications.score'));
      assert.ok(lines.some((e) => e.eventType === 'COMPLETE' && e.job.name === 'build_campaign_targets'));
    } finally {
      await rt.close();
      ws.cleanup();
    }
  });
});
