import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { edgesOfRun, executionRunEvent, productDataset, stepDataset, stepRunEvent, stepRunId, walk, type LineageEdge } from '../../lineage/index.ts';
import { knownFacets, openLineageErrors } from '../helpers/openlineage.ts';

const run = { executionId: '0b6c1c64-5d0e-4d1c-9a43-0c6f1f0a2d11', domain: 'risk', playbook: 'score_applications', step: 'score', attempt: 1, toolKind: 'duckdb' };

describe('OpenLineage run events', () => {
  it('a step COMPLETE event is valid against the official schema and facet schemas', () => {
    const e = stepRunEvent(run, {
      eventType: 'COMPLETE',
      eventTime: '2026-11-28T10:00:00.000Z',
      inputs: [{ dataset: stepDataset('risk', 'score_applications', 'income_features'), schema: [{ name: 'application_id', type: 'BIGINT' }] }],
      output: { dataset: productDataset('risk.application_scores'), schema: [{ name: 'score', type: 'DOUBLE' }], rows: 10, bytes: 100 },
      sql: 'SELECT 1',
    });
    assert.deepEqual(openLineageErrors(e), []);
    assert.ok(knownFacets().includes('schema') && knownFacets().includes('parent'), 'the facet schemas were loaded');
    assert.deepEqual(Object.keys(e.run.facets!).sort(), ['parent', 'processing_engine']);
    assert.deepEqual(Object.keys(e.job.facets!).sort(), ['jobType', 'sql']);
    assert.equal(e.outputs[0]!.name, 'risk.application_scores');
  });

  it('FAIL events carry the error, execution events validate too', () => {
    const fail = stepRunEvent(run, { eventType: 'FAIL', eventTime: '2026-11-28T10:00:00Z', inputs: [], error: 'gate failed' });
    assert.deepEqual(openLineageErrors(fail), []);
    assert.equal(fail.run.facets!.errorMessage?.message, 'gate failed');
    for (const t of ['START', 'COMPLETE', 'FAIL'] as const) assert.deepEqual(openLineageErrors(executionRunEvent(run, t, '2026-11-28T10:00:00Z', t === 'FAIL' ? 'x' : undefined)), []);
  });

  it('the validator catches a broken event (the check can fail)', () => {
    const e = stepRunEvent(run, { eventType: 'START', eventTime: 'yesterday', inputs: [] });
    assert.ok(openLineageErrors(e).some((m) => m.includes('eventTime')));
    const bad = { ...e, eventTime: '2026-11-28T10:00:00Z', run: { runId: 'not-a-uuid', facets: { parent: { _producer: 'x', _schemaURL: 'y' } } } };
    assert.ok(openLineageErrors(bad).length >= 2);
  });

  it('gives a step attempt one stable UUID run id', () => {
    assert.equal(stepRunId(run), stepRunId({ ...run }));
    assert.notEqual(stepRunId(run), stepRunId({ ...run, attempt: 2 }));
    assert.match(stepRunId(run), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('lineage graph walks', () => {
  const d = (name: string) => ({ namespace: 'n', name });
  const job = { namespace: 'j', name: 'job' };
  const edges: LineageEdge[] = [...edgesOfRun([d('a'), d('b')], job, [d('c')]), ...edgesOfRun([d('c')], job, [d('d')]), ...edgesOfRun([d('d')], job, [d('a')])];

  it('walks downstream and upstream with depths, each node once, even around a cycle', () => {
    assert.deepEqual(walk(edges, d('a'), 'downstream', 10).datasets.map((x) => [x.name, x.depth]), [['c', 1], ['d', 2]]);
    assert.deepEqual(walk(edges, d('c'), 'upstream', 10).datasets.map((x) => [x.name, x.depth]), [['a', 1], ['b', 1], ['d', 2]]);
  });

  it('says when the depth bound cut the walk short', () => {
    const w = walk(edges, d('a'), 'downstream', 1);
    assert.deepEqual(w.datasets.map((x) => x.name), ['c']);
    assert.equal(w.partial, true);
    assert.equal(walk(edges, d('b'), 'upstream', 1).partial, false);
  });
});
