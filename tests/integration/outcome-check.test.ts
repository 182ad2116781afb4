/** A worker's report of a step is checked before it counts (services/orchestrator/supervisor/outcome-check.ts), on a real artifact store. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { LocalArtifactStore, type ExecutionEvent, type TableRef } from '../../platform/index.ts';
import { checkOutcome } from '../../services/orchestrator/supervisor/outcome-check.ts';
import type { Step } from '../../services/orchestrator/dsl/index.ts';
import { tempDir } from '../helpers/workspace.ts';

const step = (name: string, produces?: string): Step => ({ name, produces, desc: undefined, tool: { kind: 'duckdb' }, mode: 'inclusive', next: [], consumes: [], retry: [], loop: undefined, timeoutMs: undefined, resources: [], path: [] });

async function table(store: LocalArtifactStore, execution: string, name: string): Promise<TableRef> {
  const file = store.stagingPath(execution, name, 1);
  fs.writeFileSync(file, `rows of ${name}`);
  const { bytes, sha256 } = await store.fingerprint(file);
  return { kind: 'table', uri: store.uriOf(file), format: 'parquet', schema: [], rows: 1, bytes, sha256 };
}

const completed = (execution: string, name: string, result: TableRef, quality?: unknown): ExecutionEvent =>
  ({ type: 'step.completed', step: name, attempt: 1, durationMs: 1, result, ...(quality ? { quality } : {}), eventId: `${execution}:${name}`, executionId: execution, at: new Date().toISOString() }) as ExecutionEvent;

const rejection = (e: ExecutionEvent): string | undefined => (e.type === 'step.failed' && e.error.code === 'E_OUTCOME_REJECTED' ? e.error.message : undefined);

describe('checking what a worker reports', () => {
  const store = new LocalArtifactStore(tempDir());

  it('accepts a staged table of the execution, and a version it published with the right checksum', async () => {
    const staged = completed('e1', 'load', await table(store, 'e1', 'load'));
    assert.equal(await checkOutcome(store, step('load'), staged), staged);
    const out = await table(store, 'e1', 'build');
    const published = await store.publish(out, 'risk.scores', 'e1.build.1');
    const quality = { productId: 'risk.scores', contractVersion: '1.0.0', passed: true, checks: [], conformance: [], artifact: published, materializationId: 'e1.build.1' };
    const event = completed('e1', 'build', published, quality);
    assert.equal(await checkOutcome(store, step('build', 'risk.scores'), event), event);
  });

  it('turns every report that does not check out into the step failing with E_OUTCOME_REJECTED, lineage dropped', async () => {
    const other = await table(store, 'e2', 'load');
    assert.match(rejection(await checkOutcome(store, step('load'), completed('e1', 'load', other)))!, /staging of execution e1/);
    const out = await table(store, 'e3', 'build');
    const quality = { productId: 'risk.scores', contractVersion: '1.0.0', passed: true, checks: [], conformance: [], artifact: out, materializationId: 'e3.build.1' };
    assert.match(rejection(await checkOutcome(store, step('build', 'risk.scores'), completed('e3', 'build', out)))!, /carries no quality gate result/);
    assert.match(rejection(await checkOutcome(store, step('other'), completed('e3', 'other', out, quality)))!, /does not produce risk\.scores/);
    assert.match(rejection(await checkOutcome(store, step('build', 'risk.scores'), completed('e3', 'build', out, { ...quality, passed: false })))!, /did not pass/);
    assert.match(rejection(await checkOutcome(store, step('build', 'risk.scores'), completed('e3', 'build', out, quality)))!, /is not where version/);
    const rejected = await checkOutcome(store, step('build', 'risk.scores'), { ...completed('e3', 'build', out, quality), lineage: [] });
    assert.ok(!('lineage' in rejected) && !('quality' in rejected) && !('result' in rejected));
  });

  it("keeps a failure, but not a quality report about another product or outside the execution's staging", async () => {
    const out = await table(store, 'e4', 'build');
    const quality = { productId: 'risk.other', contractVersion: '1.0.0', passed: false, checks: [], conformance: [], artifact: out, materializationId: 'e4.build.1' };
    const failed = { type: 'step.failed', step: 'build', attempt: 1, durationMs: 1, error: { code: 'E_QUALITY_GATE_FAILED', message: 'x', retryable: false }, quality, eventId: 'e4:f', executionId: 'e4', at: new Date().toISOString() } as ExecutionEvent;
    const kept = await checkOutcome(store, step('build', 'risk.scores'), failed);
    assert.equal(kept.type, 'step.failed');
    assert.ok(!('quality' in kept));
    const own = { ...failed, quality: { ...quality, productId: 'risk.scores' } } as ExecutionEvent;
    assert.equal(await checkOutcome(store, step('build', 'risk.scores'), own), own);
  });
});
