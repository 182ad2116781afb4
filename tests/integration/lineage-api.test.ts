/**
 * Lineage ingestion and queries over HTTP: noetl's own runs plus realistic
 * events from Airflow, dbt and Spark, joined by dataset name, at dataset and
 * column level, with budgets, as of a time, and in Marquez's shape.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../platform/index.ts';
import { buildApp } from '../../services/registry/index.ts';
import { buildAll } from '../../cli/commands/dev.ts';
import { openRuntime, type Runtime } from '../../cli/runtime.ts';
import { openLineageErrors } from '../helpers/openlineage.ts';
import { REPO_ROOT, workspace } from '../helpers/workspace.ts';

const FIXTURES = path.join(REPO_ROOT, 'tests/fixtures/lineage');
const airflow = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'airflow.json'), 'utf8')) as Record<string, unknown>[];
const dbt = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'dbt.json'), 'utf8')) as Record<string, unknown>[];
const sparkNdjson = fs.readFileSync(path.join(FIXTURES, 'spark.ndjson'), 'utf8');
const RISK = { namespace: 'noetl://products', name: 'risk.application_scores' };

type Graph = { nodes: { namespace: string; name: string; column?: string; depth: number; direction: string }[]; edges: { transformation?: string }[]; partial: { node: string; reason: string }[] };

describe('lineage API', () => {
  const ws = workspace();
  let rt: Runtime;
  let app: FastifyInstance;
  const qs = (o: Record<string, string | number>): string => new URLSearchParams(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]))).toString();
  const graph = async (o: Record<string, string | number>): Promise<Graph> => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/lineage/graph?${qs(o)}` });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<Graph>();
  };

  before(async () => {
    rt = await openRuntime(loadConfig({ NOETL_HOME: ws.home, NOETL_DOMAINS_DIR: ws.domains, NOETL_LOG_LEVEL: 'error' }));
    await buildAll(rt, () => undefined);
    app = await buildApp({ db: rt.database.db, log: rt.log, mode: 'embedded' });
  });
  after(async () => {
    await app?.close();
    await rt?.close();
    ws.cleanup();
  });

  it('the fixtures are valid OpenLineage (official schemas)', () => {
    for (const e of [...airflow, ...dbt, ...sparkNdjson.trim().split('\n').map((l) => JSON.parse(l) as unknown)]) assert.deepEqual(openLineageErrors(e), []);
  });

  it('ingests one event per request (OpenLineage HTTP transport / Marquez), idempotently', async () => {
    for (const e of airflow) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/lineage', payload: e });
      assert.equal(res.statusCode, 201, res.body);
    }
    const again = await app.inject({ method: 'POST', url: '/api/v1/lineage', payload: airflow[1] });
    assert.equal(again.statusCode, 200);
    assert.deepEqual(again.json(), { stored: 0, duplicate: true });
    const n = await rt.database.db.selectFrom('lineage_events').select((eb) => eb.fn.countAll().as('n')).where('producer', 'like', '%airflow%').executeTakeFirstOrThrow();
    assert.equal(Number(n.n), 2, 'the same event twice counts once');
  });

  it('ingests batches as a JSON array and as NDJSON', async () => {
    const a = await app.inject({ method: 'POST', url: '/api/v1/lineage/batch', payload: dbt });
    assert.deepEqual(a.json(), { stored: 2, duplicates: 0 });
    const b = await app.inject({ method: 'POST', url: '/api/v1/lineage/batch', payload: sparkNdjson, headers: { 'content-type': 'application/x-ndjson' } });
    assert.deepEqual(b.json(), { stored: 2, duplicates: 0 });
    const c = await app.inject({ method: 'POST', url: '/api/v1/lineage/batch', payload: [...dbt, ...dbt] });
    assert.deepEqual(c.json(), { stored: 0, duplicates: 4 });
  });

  it('keeps the facets it does not know', async () => {
    const ds = await rt.database.db.selectFrom('lineage_datasets').select('facets').where('namespace', '=', 's3://lake').where('name', '=', 'gold/customer_360').executeTakeFirstOrThrow();
    assert.deepEqual(Object.keys(ds.facets).sort(), ['columnLineage', 'spark_unknown_vendor_facet', 'symlinks']);
    const ev = await rt.database.db.selectFrom('lineage_events').select('event').where('event_type', '=', 'COMPLETE').where('producer', 'like', '%spark%').executeTakeFirstOrThrow();
    assert.ok(JSON.stringify(ev.event).includes('spark.logicalPlan'));
  });

  it('refuses an invalid event with 400 and the JSON path, and writes nothing of a batch with one', async () => {
    const bad = { ...airflow[0], run: { runId: 'not-a-uuid' } };
    const res = await app.inject({ method: 'POST', url: '/api/v1/lineage', payload: bad });
    assert.equal(res.statusCode, 400);
    assert.match(res.json<{ error: { message: string } }>().error.message, /^\/run\/runId must match format "uuid"/);
    const before = await rt.database.db.selectFrom('lineage_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    const fresh = { ...dbt[1], run: { runId: '0190a1b2-c3d4-7e5f-8a9b-999999999999' } };
    const batch = await app.inject({ method: 'POST', url: '/api/v1/lineage/batch', payload: [fresh, { ...fresh, eventTime: 'yesterday' }] });
    assert.equal(batch.statusCode, 400);
    assert.match(batch.json<{ error: { message: string } }>().error.message, /^event 1: \/eventTime must match format "date-time"/);
    const afterwards = await rt.database.db.selectFrom('lineage_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    assert.equal(Number(afterwards.n), Number(before.n));
  });

  it('walks downstream from a noetl product across domains and into other producers\' datasets', async () => {
    const g = await graph({ ...RISK, direction: 'downstream', depth: 10 });
    const names = g.nodes.map((n) => `${n.depth}:${n.name}`).sort();
    assert.deepEqual(names, ['1:analytics.public.customers_enriched', '1:marketing.campaign_targets', '2:gold/customer_360']);
    assert.deepEqual(g.partial, []);
  });

  it('walks upstream from another producer\'s dataset back into noetl steps', async () => {
    const g = await graph({ namespace: 's3://lake', name: 'gold/customer_360', direction: 'upstream', depth: 10 });
    const names = new Set(g.nodes.map((n) => n.name));
    for (const n of ['analytics.public.customers_enriched', 'raw/customers', 'crm.public.customers', 'risk.application_scores', 'score_applications.income_features', 'score_applications.credit_features']) assert.ok(names.has(n), n);
  });

  it('says where depth and fan-out budgets cut the answer short', async () => {
    const shallow = await graph({ ...RISK, direction: 'downstream', depth: 1 });
    assert.deepEqual(shallow.partial, [{ node: 'postgres://warehouse:5432/analytics.public.customers_enriched', reason: 'depth' }]);
    const narrow = await graph({ ...RISK, direction: 'downstream', depth: 10, maxFanOut: 1 });
    assert.ok(narrow.partial.some((p) => p.node === 'noetl://products/risk.application_scores' && p.reason === 'fan-out'));
    const small = await graph({ ...RISK, direction: 'downstream', depth: 10, maxNodes: 1 });
    assert.equal(small.nodes.length, 1);
    assert.ok(small.partial.some((p) => p.reason === 'nodes'));
  });

  it('answers at column level, with transformation types', async () => {
    const g = await graph({ ...RISK, column: 'score', direction: 'downstream', depth: 10 });
    // noetl's own SQL (marketing's max(score)) and dbt's and Spark's column lineage, joined on the product's name.
    assert.deepEqual(g.nodes.map((n) => `${n.depth}:${n.name}#${n.column}`), ['1:marketing.campaign_targets#best_score', '1:analytics.public.customers_enriched#credit_score', '2:gold/customer_360#credit_score']);
    assert.deepEqual(g.edges.map((e) => e.transformation), ['DIRECT/AGGREGATION', 'DIRECT/AGGREGATION', 'DIRECT/IDENTITY']);
  });

  it('answers as of a point in time', async () => {
    const g = await graph({ ...RISK, direction: 'downstream', depth: 10, asOf: '2026-10-02T12:00:00Z' });
    assert.deepEqual(g.nodes.map((n) => n.name), ['analytics.public.customers_enriched'], 'noetl\'s own runs and Spark came later');
  });

  it('lists the products, domains and owners downstream of a dataset', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/lineage/impact?${qs(RISK)}` });
    const body = res.json<{ products: { id: string; owners: string[] }[]; domains: string[] }>();
    assert.deepEqual(body.products.map((p) => [p.id, p.owners]), [['marketing.campaign_targets', ['growth-analytics@example.com']]]);
    assert.deepEqual(body.domains, ['marketing']);
    const col = await app.inject({ method: 'GET', url: `/api/v1/lineage/impact?${qs({ ...RISK, column: 'score' })}` });
    const byColumn = col.json<{ products: { id: string; columns: string[] }[] }>();
    assert.deepEqual(byColumn.products, [{ id: 'marketing.campaign_targets', domain: 'marketing', owners: ['growth-analytics@example.com'], columns: ['best_score'] }]);
  });

  it('serves Marquez\'s lineage shape', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/lineage?nodeId=${encodeURIComponent('dataset:noetl://products:risk.application_scores')}&depth=2` });
    assert.equal(res.statusCode, 200, res.body);
    const g = res.json<{ graph: { id: string; type: string; inEdges: { origin: string }[]; outEdges: { destination: string }[] }[] }>().graph;
    const dbtJob = g.find((n) => n.id === 'job:dbt://analytics:analytics.model.customers_enriched')!;
    assert.equal(dbtJob.type, 'JOB');
    assert.ok(dbtJob.inEdges.some((e) => e.origin === 'dataset:noetl://products:risk.application_scores'));
    assert.ok(dbtJob.outEdges.some((e) => e.destination === 'dataset:postgres://warehouse:5432:analytics.public.customers_enriched'));
    assert.equal((await app.inject({ method: 'GET', url: '/api/v1/lineage?nodeId=dataset:nope:nope' })).statusCode, 404);
  });
});
