/**
 * The playbook language on the real runtime, in both modes (embedded: PGlite
 * and the in-process bus; distributed: PostgreSQL and a nats-server of the
 * test's own): parallel loops honouring max_in_flight with their tables read
 * downstream as one view, task lists, a poll cycle with `set`, retry rules
 * (retry with backoff, jump), timeouts, sub-playbooks linked to their parent
 * (and cancelled with it), and the workload schema checked before a run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NoetlError } from '../../common/errors.ts';
import { loadConfig, type ExecutionEvent } from '../../platform/index.ts';
import { openRuntime, type Runtime } from '../../cli/runtime.ts';
import { buildApp } from '../../services/registry/index.ts';
import { startNatsServer, type TestNatsServer } from '../helpers/nats-server.ts';
import { freshPostgres, type FreshDatabase } from '../helpers/postgres.ts';
import { fixtureTree } from '../helpers/workspace.ts';
import fs from 'node:fs';

const domain = {
  'lang/domain.yaml': 'description: Playbooks exercising the language.\nowners: [platform@example.com]\n',
  'lang/playbooks/regions.yaml': `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: regions, description: "A parallel loop of DuckDB steps, then one query over all their tables." }
workload: { regions: [eu, us, apac, latam, mena] }
workload_schema:
  type: object
  required: [regions]
  properties: { regions: { type: array, minItems: 1, items: { type: string, pattern: "^[a-z]+$" } } }
workflow:
  - step: per_region
    loop: { in: "{{ workload.regions }}", iterator: region, mode: parallel, max_in_flight: 2 }
    tool:
      - { kind: noop, name: pause, sleep_ms: 150, result: "{{ region | upper }}" }
      - { kind: duckdb, name: rows, sql: "SELECT {{ region }} AS region, {{ previous.value }} AS code, i AS n FROM range({{ iteration }} + 1) t(i)" }
    next: [{ step: summary }]
  - step: summary
    tool: { kind: duckdb, sql: "SELECT region, count(*) AS n FROM per_region GROUP BY region ORDER BY region" }
`,
  'lang/playbooks/paging.yaml': `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: paging, description: "A poll loop with set, a retry rule that jumps, and a timeout." }
workload: { pages: 3 }
workflow:
  - step: start
    next: [{ step: page, set: { page: 1 } }]
  - step: page
    tool: { kind: noop, result: "{{ vars.page }}" }
    next:
      mode: exclusive
      arcs:
        - { step: page, when: "{{ vars.page < workload.pages }}", set: { page: "{{ vars.page + 1 }}" } }
        - { step: fragile }
  - step: fragile
    timeout: 200ms
    tool: { kind: noop, sleep_ms: 5000 }
    retry:
      - { when: "{{ error.code == 'E_STEP_TIMEOUT' and attempt < 2 }}", then: retry, attempts: 2, backoff: fixed, delay: 100ms }
      - { when: "{{ error.code == 'E_STEP_TIMEOUT' }}", then: jump, step: fallback }
    next: [{ step: done }]
  - step: fallback
    tool: { kind: noop, result: "fell back after {{ results.fragile.value.error.code }}" }
    next: [{ step: done }]
  - step: done
    tool: { kind: noop, result: "{{ results.fallback.value }} on page {{ vars.page }}" }
`,
  'lang/playbooks/parent.yaml': `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: parent, description: "Calls a sub-playbook once per size." }
workload: { sizes: [2, 3], sleep: 0 }
workflow:
  - step: fan
    loop: { in: "{{ workload.sizes }}", iterator: size }
    tool: { kind: playbook, path: lang/child, input: { n: "{{ size }}", sleep: "{{ workload.sleep }}" } }
    next: [{ step: total }]
  - step: total
    tool: { kind: noop, result: "{{ results.fan.items | length }} children" }
`,
  'lang/playbooks/child.yaml': `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: child, description: "Counts to n, slowly when asked." }
workload: { n: 1, sleep: 0 }
workload_schema:
  type: object
  properties: { n: { type: integer, minimum: 1, maximum: 100 }, sleep: { type: integer } }
workflow:
  - step: wait
    tool: { kind: noop, sleep_ms: "{{ workload.sleep }}" }
    next: [{ step: count }]
  - step: count
    tool: { kind: duckdb, sql: "SELECT i FROM range({{ workload.n }}) t(i)" }
`,
};

for (const mode of ['embedded', 'jetstream'] as const) {
  describe(`the playbook language at run time (${mode})`, () => {
    let rt: Runtime;
    let nats: TestNatsServer | undefined;
    let pg: FreshDatabase | undefined;
    let root: string;
    const events: ExecutionEvent[] = [];

    before(async () => {
      root = fixtureTree(domain);
      if (mode === 'jetstream') [nats, pg] = await Promise.all([startNatsServer(), freshPostgres()]);
      const config = loadConfig({ NOETL_HOME: `${root}/.noetl`, NOETL_DOMAINS_DIR: root, NOETL_DATABASE_URL: pg?.url, NOETL_NATS_URL: nats?.url, NOETL_LOG_LEVEL: 'error', NOETL_WORKER_CONCURRENCY: '4' });
      rt = await openRuntime(config);
      rt.supervisor.onEvent((e) => events.push(e));
    });

    after(async () => {
      await rt?.close();
      await nats?.stop();
      await pg?.drop();
      fs.rmSync(root, { recursive: true, force: true });
    });

    const run = async (ref: string, params: Record<string, unknown> = {}) => {
      const id = await rt.supervisor.startExecution(ref, params);
      const state = await rt.supervisor.waitFor(id);
      return { id, state, log: events.filter((e) => e.executionId === id) };
    };

    it('runs a parallel loop with at most max_in_flight items at once; the next step reads all their tables as one', async () => {
      const { state, log } = await run('lang/regions');
      assert.equal(state.status, 'completed', JSON.stringify(state.error));
      let flying = 0;
      let peak = 0;
      for (const e of log) {
        if (e.type === 'step.dispatched' && e.step === 'per_region') peak = Math.max(peak, ++flying);
        if ((e.type === 'step.completed' || e.type === 'step.failed') && e.step === 'per_region') flying--;
      }
      assert.equal(peak, 2, 'two items at a time, never more');
      const loop = state.results.per_region!;
      assert.equal(loop.kind, 'list');
      assert.deepEqual(loop.kind === 'list' && loop.items.map((r) => r.kind === 'table' && r.rows), [1, 2, 3, 4, 5], 'one table per item, in item order');
      const summary = state.results.summary!;
      assert.equal(summary.kind === 'table' && summary.rows, 5);
    });

    it('goes round a poll cycle with set, retries a timeout with backoff, then jumps to the fallback', async () => {
      const { state, log } = await run('lang/paging');
      assert.equal(state.status, 'completed', JSON.stringify(state.error));
      assert.equal(log.filter((e) => e.type === 'step.dispatched' && e.step === 'page').length, 3, 'three pages');
      const fragile = log.filter((e) => e.type === 'step.failed' && e.step === 'fragile');
      assert.deepEqual(fragile.map((e) => e.type === 'step.failed' && e.error.code), ['E_STEP_TIMEOUT', 'E_STEP_TIMEOUT']);
      const retry = log.find((e) => e.type === 'step.dispatched' && e.step === 'fragile' && e.attempt === 2);
      assert.ok(retry?.type === 'step.dispatched' && retry.notBefore, 'the retry waited for its backoff');
      assert.deepEqual(state.results.done, { kind: 'value', value: 'fell back after E_STEP_TIMEOUT on page 3' });
    });

    it('runs a sub-playbook per item as child executions linked to the parent', async () => {
      const { id, state } = await run('lang/parent');
      assert.equal(state.status, 'completed', JSON.stringify(state.error));
      assert.deepEqual(state.results.total, { kind: 'value', value: '2 children' });
      const fan = state.results.fan!;
      assert.ok(fan.kind === 'list');
      const children = fan.items.map((r) => (r.kind === 'value' ? (r.value as { execution_id: string; results: Record<string, { rows: number }> }) : undefined));
      assert.deepEqual(children.map((c) => c?.results.count?.rows), [2, 3], 'each child counted to its own n');
      const rows = await rt.database.db.selectFrom('executions').select(['id', 'parent_id', 'playbook_ref', 'status']).where('parent_id', '=', id).execute();
      assert.deepEqual(rows.map((r) => [r.playbook_ref, r.status]).sort(), [['lang/child', 'completed'], ['lang/child', 'completed']]);
      assert.deepEqual(new Set(rows.map((r) => r.id)), new Set(children.map((c) => c!.execution_id)));
      const app = await buildApp({ db: rt.database.db, log: rt.log, mode: 'embedded' });
      try {
        const parent = (await app.inject({ method: 'GET', url: `/api/v1/executions/${id}` })).json<{ children: { id: string; status: string }[]; steps: { name: string; status: string; items?: unknown }[] }>();
        assert.deepEqual(parent.children.map((c) => c.status), ['completed', 'completed']);
        assert.deepEqual(parent.steps.find((x) => x.name === 'fan'), { name: 'fan', status: 'completed', attempt: 0, run: 1, items: { total: 2, completed: 2, failed: 0 } });
        const child = (await app.inject({ method: 'GET', url: `/api/v1/executions/${rows[0]!.id}` })).json<{ parent: { executionId: string; step: string } }>();
        assert.deepEqual(child.parent, { executionId: id, step: 'fan' });
      } finally {
        await app.close();
      }
    });

    it('a child whose input breaks its workload schema fails the parent step with E_WORKLOAD_INVALID', async () => {
      const { state } = await run('lang/parent', { sizes: [1000] });
      assert.equal(state.status, 'failed');
      assert.equal(state.error!.code, 'E_WORKLOAD_INVALID');
      assert.match(state.error!.message, /sub-playbook lang\/child: .*workload\.n must be <= 100/);
    });

    it('cancelling the parent cancels its running children', async () => {
      const id = await rt.supervisor.startExecution('lang/parent', { sleep: 30000 });
      const children = async () => rt.database.db.selectFrom('executions').select(['id', 'status']).where('parent_id', '=', id).execute();
      for (let i = 0; i < 100 && (await children()).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
      await rt.supervisor.cancel(id, 'test');
      const final = await rt.supervisor.waitFor(id);
      assert.equal(final.status, 'cancelled');
      const started = await children();
      assert.equal(started.length, 2, 'both children had started');
      for (const c of started) {
        const st = await rt.supervisor.waitFor(c.id);
        assert.equal(st.status, 'cancelled');
        assert.match(st.error!.message, /parent execution .* was cancelled/);
      }
    });

    it('refuses a run whose workload breaks the schema before it starts (422 over the API), recording nothing', async () => {
      const before = await rt.database.db.selectFrom('executions').select('id').execute();
      await assert.rejects(
        rt.supervisor.startExecution('lang/regions', { regions: ['EU!'] }),
        (e: unknown) => e instanceof NoetlError && e.code === 'E_WORKLOAD_INVALID' && /workload\.regions\.0 must match pattern/.test(e.message),
      );
      const control = { start: (ref: string, w: Record<string, unknown>) => rt.supervisor.startExecution(ref, w), cancel: () => Promise.resolve(), onEvent: () => () => undefined };
      const app = await buildApp({ db: rt.database.db, log: rt.log, mode: 'embedded', executions: control });
      try {
        const res = await app.inject({ method: 'POST', url: '/api/v1/executions', payload: { playbook: 'lang/regions', workload: { regions: [] } } });
        assert.equal(res.statusCode, 422);
        assert.equal(res.json<{ error: { code: string } }>().error.code, 'E_WORKLOAD_INVALID');
      } finally {
        await app.close();
      }
      assert.equal((await rt.database.db.selectFrom('executions').select('id').execute()).length, before.length, 'no execution recorded');
    });
  });
}

describe('a sub-playbook does not hold a worker slot', () => {
  it('completes under a pool that runs one step at a time (the child needs that slot)', async () => {
    const root = fixtureTree(domain);
    const config = loadConfig({ NOETL_HOME: `${root}/.noetl`, NOETL_DOMAINS_DIR: root, NOETL_LOG_LEVEL: 'error', NOETL_POOLS: 'default:cpu@1' });
    const rt = await openRuntime(config);
    try {
      const id = await rt.supervisor.startExecution('lang/parent');
      const state = await rt.supervisor.waitFor(id);
      assert.equal(state.status, 'completed', JSON.stringify(state.error));
    } finally {
      await rt.close();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
