/**
 * The whole vertical slice: the shipped domains built end to end (DSL → net →
 * bus → DuckDB worker → quality gate → publish → catalog → HTTP), on the
 * embedded database and on the real PostgreSQL server.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { loadConfig, type ExecutionEvent } from '../../platform/index.ts';
import { buildApp } from '../../services/registry/index.ts';
import { buildAll } from '../../cli/commands/dev.ts';
import { buildPlaybook, type BuildResult } from '../../cli/commands/build.ts';
import { openRuntime, type Runtime } from '../../cli/runtime.ts';
import { freshPostgres, type FreshDatabase } from '../helpers/postgres.ts';
import { openLineageErrors } from '../helpers/openlineage.ts';
import { workspace } from '../helpers/workspace.ts';

type ProductList = { products: { id: string; currentVersion: { materializationId: string; rows: number } | null; lastQuality: { passed: boolean; status: string } | null }[] };

for (const mode of ['embedded', 'postgres'] as const) {
  describe(`building the example domains (${mode} database)`, () => {
    const ws = workspace();
    let pg: FreshDatabase | undefined;
    let rt: Runtime;
    let results: BuildResult[];
    const lines: string[] = [];
    const events: ExecutionEvent[] = [];

    before(async () => {
      if (mode === 'postgres') pg = await freshPostgres();
      const config = loadConfig({ NOETL_HOME: ws.home, NOETL_DOMAINS_DIR: ws.domains, NOETL_DATABASE_URL: pg?.url, NOETL_LOG_LEVEL: 'error' });
      rt = await openRuntime(config);
      rt.supervisor.onEvent((e) => events.push(e));
      results = await buildAll(rt, (l) => lines.push(l));
    });

    after(async () => {
      await rt?.close();
      await pg?.drop();
      ws.cleanup();
    });

    it('builds every playbook, with per-step progress', () => {
      assert.deepEqual(results.map((r) => [r.ref, r.state.status]), [
        ['healthcare/patient_cohort', 'completed'],
        ['observability/ingest_traces', 'completed'],
        ['risk/score_applications', 'completed'],
        ['marketing/build_campaign_targets', 'completed'],
      ]);
      assert.ok(lines.some((l) => /✓ score \(20,000 rows/.test(l)), lines.join('\n'));
      assert.ok(lines.some((l) => /gate risk\.application_scores@2\.0\.0: passed/.test(l)));
      assert.equal(lines.at(-1), 'built 4/4 playbooks');
    });

    it('fires the join only after both parallel branches completed', () => {
      const risk = results.find((r) => r.ref === 'risk/score_applications')!;
      const log = events.filter((e) => e.executionId === risk.executionId);
      const at = (type: string, step: string): number => log.findIndex((e) => e.type === type && 'step' in e && e.step === step);
      const join = at('step.dispatched', 'score');
      assert.ok(join > at('step.completed', 'income_features') && join > at('step.completed', 'credit_features'));
      assert.ok(at('step.dispatched', 'credit_features') < at('step.completed', 'income_features'), 'the branches ran concurrently');
    });

    it('takes the exclusive route and joins through dead-path elimination', () => {
      const obs = results.find((r) => r.ref === 'observability/ingest_traces')!;
      assert.equal(obs.state.steps.flag_slow_services!.status, 'completed');
      assert.equal(obs.state.steps.done!.status, 'completed');
    });

    it('runs the loop over regions and pages on-call through a sub-playbook (a child execution)', async () => {
      const obs = results.find((r) => r.ref === 'observability/ingest_traces')!;
      const spans = obs.state.results.generate_spans!;
      assert.deepEqual(spans.kind === 'list' && spans.items.map((t) => t.kind === 'table' && t.rows), [20000, 20000, 20000]);
      const page = obs.state.results.page_on_call!;
      const child = page.kind === 'value' ? (page.value as { execution_id: string; results: Record<string, { value?: unknown }> }) : undefined;
      assert.deepEqual(child?.results.page, { kind: 'value', value: 'paged on-call: 5 slow service(s)' });
      const row = await rt.database.db.selectFrom('executions').select(['parent_id', 'playbook_ref', 'status']).where('id', '=', child.execution_id).executeTakeFirstOrThrow();
      assert.deepEqual(row, { parent_id: obs.executionId, playbook_ref: 'observability/page_on_call', status: 'completed' });
    });

    it('passes tables between steps as references, never rows', () => {
      for (const e of events) {
        if (e.type !== 'step.completed' || e.result.kind !== 'table') continue;
        assert.deepEqual(Object.keys(e.result).sort(), ['bytes', 'format', 'kind', 'rows', 'schema', 'sha256', 'uri']);
        const { lineage: _lineage, ...rest } = e;
        assert.ok(JSON.stringify(rest).length < 8000, 'an event stays small (its lineage metadata aside)');
      }
    });

    it('emits valid OpenLineage events for every step and execution, joined across domains', async () => {
      const stored = await rt.database.db.selectFrom('lineage_events').select(['event_type', 'job_name', 'event']).execute();
      assert.equal(stored.filter((e) => e.job_name === 'score_applications' && e.event_type === 'COMPLETE').length, 1);
      assert.equal(stored.filter((e) => e.job_name.startsWith('score_applications.') && e.event_type === 'START').length, 4);
      assert.equal(stored.filter((e) => e.job_name.startsWith('score_applications.') && e.event_type === 'RUNNING').length, 4);
      assert.deepEqual(stored.filter((e) => e.job_name === 'score_applications').map((e) => e.event_type).sort(), ['COMPLETE', 'RUNNING', 'START']);
      for (const e of stored) assert.deepEqual(openLineageErrors(e.event), [], `${e.job_name} ${e.event_type}`);
      const score = stored.find((e) => e.job_name === 'score_applications.score' && e.event_type === 'COMPLETE')!.event as { outputs: { facets: Record<string, { owners?: unknown; assertions?: { assertion: string; success: boolean }[] }> }[] };
      const facets = score.outputs[0]!.facets;
      assert.deepEqual(Object.keys(facets).sort(), ['columnLineage', 'dataQualityAssertions', 'documentation', 'ownership', 'schema']);
      assert.deepEqual(facets.ownership!.owners, [{ name: 'risk-data@example.com', type: 'owner' }]);
      assert.ok(facets.dataQualityAssertions!.assertions!.some((a) => a.assertion === 'application_id.unique' && a.success));
      const columns = await rt.database.db.selectFrom('lineage_column_edges').select(['src_name', 'src_column', 'dst_name', 'dst_column', 'transformation']).execute();
      assert.ok(columns.some((c) => c.src_name === 'risk.application_scores' && c.src_column === 'score' && c.dst_name === 'marketing.campaign_targets' && c.dst_column === 'best_score' && c.transformation === 'DIRECT/AGGREGATION'), 'column lineage across domains');
      assert.ok(columns.some((c) => c.dst_name === 'risk.application_scores' && c.dst_column === 'customer_id' && c.src_column === 'customer_id' && c.transformation === 'DIRECT/IDENTITY'));
      const edges = await rt.database.db.selectFrom('lineage_edges').select(['src_name', 'job_name', 'dst_name']).execute();
      assert.ok(edges.some((e) => e.src_name === 'risk.application_scores' && e.job_name === 'build_campaign_targets.pick_targets' && e.dst_name === 'marketing.campaign_targets'));
    });

    it('serves every product with its current version and last quality result', async () => {
      const app = await buildApp({ db: rt.database.db, log: rt.log, mode: 'embedded' });
      try {
        const res = await app.inject({ method: 'GET', url: '/products' });
        assert.equal(res.statusCode, 200);
        const { products } = res.json<ProductList>();
        assert.deepEqual(products.map((p) => p.id), ['healthcare.patient_cohort', 'marketing.campaign_targets', 'observability.service_latency', 'risk.application_scores']);
        for (const p of products) {
          assert.ok(p.currentVersion && p.currentVersion.rows > 0, p.id);
          assert.deepEqual(p.lastQuality && [p.lastQuality.passed, p.lastQuality.status], [true, 'published'], p.id);
        }
        const one = await app.inject({ method: 'GET', url: '/api/v1/products/risk.application_scores' });
        const body = one.json<{ owners: string[]; schema: { name: string; classification: string | null }[]; lastQuality: { checks: { id: string; passed: boolean }[] } }>();
        assert.deepEqual(body.owners, ['risk-data@example.com']);
        assert.equal(body.schema.find((c) => c.name === 'email')?.classification, 'pii');
        assert.ok(body.lastQuality.checks.length >= 10 && body.lastQuality.checks.find((c) => c.id === 'email.nullValues.0'));
        const lineage = (id: string) => app.inject({ method: 'GET', url: `/products/${id}` }).then((r) => r.json<{ lineage: { upstream: string[]; downstream: string[] } }>().lineage);
        assert.deepEqual(await lineage('risk.application_scores'), { upstream: [], downstream: ['marketing.campaign_targets'], partial: false });
        assert.deepEqual(await lineage('marketing.campaign_targets'), { upstream: ['risk.application_scores'], downstream: [], partial: false });
        const risk = results.find((r) => r.ref === 'risk/score_applications')!;
        const exec = await app.inject({ method: 'GET', url: `/executions/${risk.executionId}` });
        const e = exec.json<{ status: string; steps: { name: string; status: string }[]; events: { type: string }[] }>();
        assert.equal(e.status, 'completed');
        assert.deepEqual(e.steps.map((s) => [s.name, s.status]).sort(), [['credit_features', 'completed'], ['generate_applications', 'completed'], ['income_features', 'completed'], ['score', 'completed']]);
        assert.equal(e.events[0]!.type, 'execution.started');
        assert.equal(e.events.at(-1)!.type, 'execution.completed');
        const missing = await app.inject({ method: 'GET', url: '/products/risk.nope' });
        assert.equal(missing.statusCode, 404);
        assert.equal(missing.json<{ error: { code: string } }>().error.code, 'E_PRODUCT_NOT_FOUND');
        assert.equal((await app.inject({ method: 'GET', url: '/executions/nope' })).statusCode, 404);
        assert.equal((await app.inject({ method: 'GET', url: '/health' })).json<{ status: string }>().status, 'ok');
      } finally {
        await app.close();
      }
    });

    it('a failing gate keeps the output staged and the previous version current', async () => {
      const before = await currentOf(rt, 'risk.application_scores');
      const out: string[] = [];
      // 500 applications break the contract's row-count rule (between 1000 and 10,000,000).
      const r = await buildPlaybook(rt, 'risk/score_applications', { applications: 500 }, (l) => out.push(l));
      assert.equal(r.state.status, 'failed');
      const err = r.state.error!;
      assert.equal(err.code, 'E_QUALITY_GATE_FAILED');
      assert.match(err.message, /risk\.application_scores: check application_scores\.rowCount\.0: row count: expected between 1000 and 10000000, observed 500/);
      assert.ok(out.some((l) => /gate risk\.application_scores@2\.0\.0: FAILED/.test(l)) || out.some((l) => /✗ score/.test(l)), out.join('\n'));
      const afterwards = await currentOf(rt, 'risk.application_scores');
      assert.deepEqual(afterwards, before, 'current version unchanged');
      assert.ok(fs.existsSync(new URL(before!.uri)), 'the previous version is still on disk');
      const rejected = await rt.database.db.selectFrom('materializations').selectAll().where('execution_id', '=', r.executionId).executeTakeFirstOrThrow();
      assert.equal(rejected.status, 'rejected');
      assert.ok(fs.existsSync(new URL(rejected.artifact_uri)), 'the rejected output stays staged');
      assert.match(rejected.artifact_uri, /\/staging\//);
      const failedChecks = await rt.database.db.selectFrom('quality_results').select(['check_id', 'passed']).where('materialization_id', '=', rejected.id).where('passed', '=', false).execute();
      assert.deepEqual(failedChecks.map((c) => c.check_id), ['application_scores.rowCount.0']);
      // The history answers per product and per check.
      const app = await buildApp({ db: rt.database.db, log: rt.log, mode: 'embedded' });
      try {
        const h = (await app.inject({ method: 'GET', url: '/api/v1/products/risk.application_scores/history' })).json<{ builds: { status: string; current: boolean; failedChecks: { id: string }[] }[] }>();
        assert.deepEqual(h.builds.map((b) => [b.status, b.current]), [['rejected', false], ['published', true]]);
        assert.deepEqual(h.builds[0]!.failedChecks.map((c) => c.id), ['application_scores.rowCount.0']);
        const c = (await app.inject({ method: 'GET', url: '/api/v1/products/risk.application_scores/checks/application_scores.rowCount.0/history' })).json<{ results: { passed: boolean; observed: number }[] }>();
        assert.deepEqual(c.results.map((r) => [r.passed, r.observed]), [[false, 500], [true, 20000]]);
        assert.equal((await app.inject({ method: 'GET', url: '/api/v1/products/risk.application_scores/checks/nope/history' })).statusCode, 404);
        assert.equal((await app.inject({ method: 'GET', url: '/api/v1/products/nope/history' })).statusCode, 404);
      } finally {
        await app.close();
      }
    });

    it('fails a run that consumes a product with no published version, naming it', async () => {
      await rt.database.db.updateTable('products').set({ current_materialization_id: null }).where('id', '=', 'risk.application_scores').execute();
      await assert.rejects(rt.supervisor.startExecution('marketing/build_campaign_targets'), (e: unknown) => (e as { code?: string }).code === 'E_PRODUCT_NOT_PUBLISHED' && /risk\.application_scores/.test((e as Error).message));
      await assert.rejects(rt.supervisor.startExecution('risk/nope'), { code: 'E_PLAYBOOK_NOT_FOUND' });
    });
  });
}

async function currentOf(rt: Runtime, id: string): Promise<{ id: string; uri: string } | undefined> {
  return rt.database.db
    .selectFrom('products as p')
    .innerJoin('materializations as m', 'm.id', 'p.current_materialization_id')
    .select(['m.id', 'm.artifact_uri as uri'])
    .where('p.id', '=', id)
    .executeTakeFirst();
}
