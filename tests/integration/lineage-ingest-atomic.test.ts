/**
 * Lineage ingestion is all or nothing: an event is validated and its graph
 * extracted before anything is stored, and the event and its graph are written
 * in one transaction. Per-event caps keep one event from flooding the graph.
 * Run on the embedded database and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createLogger, migrate, type Database } from '../../platform/index.ts';
import { buildApp } from '../../services/registry/index.ts';
import { DATABASE_ADAPTERS } from '../helpers/databases.ts';

const LINEAGE_TABLES = ['lineage_events', 'lineage_datasets', 'lineage_jobs', 'lineage_edges', 'lineage_column_edges'] as const;

function runEvent(runId: string, outputFacets: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventType: 'COMPLETE',
    eventTime: '2026-10-02T03:01:30.000Z',
    producer: 'https://example.com/producer',
    schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
    run: { runId },
    job: { namespace: 'test://jobs', name: 'copy' },
    inputs: [{ namespace: 'test://lake', name: 'source' }],
    outputs: [{ namespace: 'test://lake', name: 'target', facets: outputFacets }],
  };
}

for (const adapter of DATABASE_ADAPTERS) {
  describe(`lineage ingestion is atomic (${adapter.name})`, () => {
    let database: Database;
    let dispose: () => Promise<void>;
    let app: FastifyInstance;
    const counts = async (): Promise<Record<string, number>> => {
      const out: Record<string, number> = {};
      for (const t of LINEAGE_TABLES) {
        const row = await database.db.selectFrom(t).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
        out[t] = Number(row.n);
      }
      return out;
    };

    before(async () => {
      ({ database, dispose } = await adapter.open());
      await migrate(database);
      app = await buildApp({ db: database.db, log: createLogger({ level: 'error' }), mode: 'embedded' });
    });
    after(async () => {
      await app?.close();
      await dispose?.();
    });

    it('refuses a column-lineage facet that breaks graph extraction with 400 naming it, stores nothing, and takes the fixed event', async () => {
      const broken = runEvent('0190a1b2-c3d4-7e5f-8a9b-00000000a001', { columnLineage: { fields: { id: { inputFields: 'not a list' } } } });
      const before = await counts();
      const res = await app.inject({ method: 'POST', url: '/api/v1/lineage', payload: broken });
      assert.equal(res.statusCode, 400, res.body);
      const error = res.json<{ error: { code: string; message: string; details: { field: string } } }>().error;
      assert.equal(error.code, 'E_REQUEST_INVALID');
      assert.equal(error.details.field, 'body/outputs/0/facets/columnLineage/fields/id/inputFields');
      assert.match(error.message, /\/outputs\/0\/facets\/columnLineage\/fields\/id\/inputFields/);
      assert.deepEqual(await counts(), before, 'nothing of the refused event was written');
      const fixed = runEvent('0190a1b2-c3d4-7e5f-8a9b-00000000a001', { columnLineage: { fields: { id: { inputFields: [{ namespace: 'test://lake', name: 'source', field: 'id' }] } } } });
      const again = await app.inject({ method: 'POST', url: '/api/v1/lineage', payload: fixed });
      assert.equal(again.statusCode, 201, again.body);
      assert.deepEqual(again.json(), { stored: 1, duplicate: false });
      const edges = await database.db.selectFrom('lineage_column_edges').select(['src_column', 'dst_column']).where('job_name', '=', 'copy').execute();
      assert.deepEqual(edges, [{ src_column: 'id', dst_column: 'id' }], 'the event reached the graph');
    });

    const refuse = async (payload: unknown, status: number, code: string, field: string, url = '/api/v1/lineage'): Promise<string> => {
      const before = await counts();
      const res = await app.inject({ method: 'POST', url, payload: payload as Record<string, unknown> });
      assert.equal(res.statusCode, status, res.body);
      const error = res.json<{ error: { code: string; message: string; details: { field: string } } }>().error;
      assert.equal(error.code, code, error.message);
      assert.equal(error.details.field, field, error.message);
      assert.deepEqual(await counts(), before, 'nothing was written');
      return error.message;
    };
    const datasets = (n: number, prefix: string): { namespace: string; name: string }[] => Array.from({ length: n }, (_, i) => ({ namespace: 'test://lake', name: `${prefix}${i}` }));

    it('refuses an event of 200 inputs × 200 outputs (40,000 edges) with E_LINEAGE_LIMIT, writing nothing', async () => {
      const flood = { ...runEvent('0190a1b2-c3d4-7e5f-8a9b-00000000a002'), inputs: datasets(200, 'in'), outputs: datasets(200, 'out') };
      const message = await refuse(flood, 400, 'E_LINEAGE_LIMIT', 'body/outputs');
      assert.match(message, /200 × 200 = 40000 dataset edges; an event may add at most 10000/);
    });

    it('refuses more datasets than an event may name, and more column edges than it may add', async () => {
      const many = { ...runEvent('0190a1b2-c3d4-7e5f-8a9b-00000000a003'), eventType: 'START', inputs: datasets(1001, 'in') };
      assert.match(await refuse(many, 400, 'E_LINEAGE_LIMIT', 'body/outputs'), /1001 inputs and 1 outputs/);
      const inputFields = datasets(101, 'in').map((d) => ({ ...d, field: 'c' }));
      const fields = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`c${i}`, { inputFields }]));
      const wide = runEvent('0190a1b2-c3d4-7e5f-8a9b-00000000a004', { columnLineage: { fields } });
      assert.match(await refuse(wide, 400, 'E_LINEAGE_LIMIT', 'body/outputs'), /10100 column edges/);
    });

    it('refuses an event over 1 MiB with 413 (alone or in a batch), and a name over its byte limit with 400 naming it', async () => {
      const big = runEvent('0190a1b2-c3d4-7e5f-8a9b-00000000a005');
      (big.outputs as { facets: Record<string, unknown> }[])[0]!.facets = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`blob${i}`, { text: 'x'.repeat(60_000) }]));
      assert.match(await refuse([runEvent('0190a1b2-c3d4-7e5f-8a9b-00000000a015'), big], 413, 'E_REQUEST_TOO_LARGE', 'body/1', '/api/v1/lineage/batch'), /^event 1: the event is \d+ bytes as JSON; an event may have at most 1048576/);
      const alone = await app.inject({ method: 'POST', url: '/api/v1/lineage', payload: big });
      assert.equal(alone.statusCode, 413);
      assert.equal(alone.json<{ error: { code: string } }>().error.code, 'E_REQUEST_TOO_LARGE');
      const longName = { ...runEvent('0190a1b2-c3d4-7e5f-8a9b-00000000a006'), job: { namespace: 'test://jobs', name: 'é'.repeat(251) } };
      assert.match(await refuse(longName, 400, 'E_REQUEST_INVALID', 'body/job/name'), /502 bytes long \(UTF-8\); at most 500/);
    });

    it('writes nothing of a batch whose last event breaks graph extraction', async () => {
      const good = runEvent('0190a1b2-c3d4-7e5f-8a9b-00000000a007');
      const bad = runEvent('0190a1b2-c3d4-7e5f-8a9b-00000000a008', { columnLineage: { fields: { id: { inputFields: [{ namespace: 'test://lake', name: 'source' }] } } } });
      const message = await refuse([good, bad], 400, 'E_REQUEST_INVALID', 'body/1/outputs/0/facets/columnLineage/fields/id/inputFields/0', '/api/v1/lineage/batch');
      assert.match(message, /^event 1: .*missing "field"/);
    });

    it('refuses unknown fields of events, runs, jobs and datasets, and keeps unknown facets', async () => {
      const extra = { ...runEvent('0190a1b2-c3d4-7e5f-8a9b-00000000a009'), priority: 'high' };
      assert.match(await refuse(extra, 400, 'E_REQUEST_INVALID', 'body/priority'), /^\/priority is not a field of an OpenLineage event/);
      const inJob = { ...runEvent('0190a1b2-c3d4-7e5f-8a9b-00000000a009'), job: { namespace: 'test://jobs', name: 'copy', owner: 'me' } };
      await refuse(inJob, 400, 'E_REQUEST_INVALID', 'body/job/owner');
      const faceted = runEvent('0190a1b2-c3d4-7e5f-8a9b-00000000a010', { vendor_thing: { _producer: 'https://example.com/x', anything: [1, { deep: true }] } });
      const res = await app.inject({ method: 'POST', url: '/api/v1/lineage', payload: faceted });
      assert.equal(res.statusCode, 201, res.body);
      const ds = await database.db.selectFrom('lineage_datasets').select('facets').where('name', '=', 'target').executeTakeFirstOrThrow();
      assert.deepEqual(ds.facets.vendor_thing, { _producer: 'https://example.com/x', anything: [1, { deep: true }] });
    });

    it('refuses impossible dates and NUL bytes with 400 naming the field', async () => {
      for (const eventTime of ['0000-01-01T00:00:00Z', '2026-13-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T00:00:00+16:00']) {
        const message = await refuse({ ...runEvent('0190a1b2-c3d4-7e5f-8a9b-00000000a011'), eventTime }, 400, 'E_REQUEST_INVALID', 'body/eventTime');
        assert.match(message, /^\/eventTime must match format "date-time"/);
      }
      const nul = runEvent('0190a1b2-c3d4-7e5f-8a9b-00000000a012', { note: { text: 'a\u0000b' } });
      assert.match(await refuse(nul, 400, 'E_REQUEST_INVALID', 'body/outputs/0/facets/note/text'), /NUL/);
    });

    it('stores names at their byte limits in every position of the widest key (incompressible 4-byte characters)', async () => {
      const random = (bytes: number): string => Array.from({ length: bytes / 4 }, () => String.fromCodePoint(0x10000 + Math.floor(Math.random() * 0xffff))).join('');
      const ns = (): string => random(200);
      const name = (): string => random(500);
      const field = (): string => random(128);
      const input = { namespace: ns(), name: name() };
      const column = field();
      const inputFields = [{ ...input, field: field(), transformations: [{ type: random(32), subtype: random(32) }] }];
      const event = {
        ...runEvent('0190a1b2-c3d4-7e5f-8a9b-00000000a013'),
        job: { namespace: ns(), name: name() },
        inputs: [input],
        outputs: [{ namespace: ns(), name: name(), facets: { columnLineage: { fields: { [column]: { inputFields } } } } }],
      };
      const res = await app.inject({ method: 'POST', url: '/api/v1/lineage', payload: event });
      assert.equal(res.statusCode, 201, res.body);
      const edge = await database.db.selectFrom('lineage_column_edges').select('dst_column').where('dst_column', '=', column).executeTakeFirst();
      assert.ok(edge, 'the column edge was stored');
    });
  });
}
