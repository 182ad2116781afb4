/** The artifact store port's conformance suite, on real files, run against every adapter: staging, checksum-verified publish, the root boundary, staging collection. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { LocalArtifactStore, type ArtifactStore } from '../../platform/index.ts';
import type { TableRef } from '../../platform/bus/messages.ts';
import { tempDir } from '../helpers/workspace.ts';

async function staged(store: ArtifactStore, content = 'parquet bytes'): Promise<TableRef> {
  const file = store.stagingPath('exec1', 'step', 1);
  fs.writeFileSync(file, content);
  const { bytes, sha256 } = await store.fingerprint(file);
  return { kind: 'table', uri: store.uriOf(file), format: 'parquet', schema: [], rows: 1, bytes, sha256 };
}

/** Every adapter of the port, made fresh for each test, with the folder it keeps its files in. */
const ADAPTERS: { name: string; make(): { store: ArtifactStore; root: string } }[] = [
  {
    name: 'local directory',
    make: () => {
      const root = tempDir();
      return { store: new LocalArtifactStore(root), root };
    },
  },
];

for (const adapter of ADAPTERS) describe(`artifact store conformance: ${adapter.name}`, () => {
  it('publishes a staged file by atomic rename into the product folder', async () => {
    const { store, root } = adapter.make();
    const ref = await staged(store);
    const published = await store.publish(ref, 'risk.scores', 'm1');
    const file = store.resolve(published.uri);
    assert.equal(path.relative(root, file), path.join('published', 'risk', 'scores', 'm1.parquet'));
    assert.equal(fs.readFileSync(file, 'utf8'), 'parquet bytes');
    assert.ok(!fs.existsSync(store.resolve(ref.uri)), 'the staged file moved');
    assert.equal(published.sha256, ref.sha256);
  });

  it('refuses to publish a file whose checksum changed since it was staged', async () => {
    const { store } = adapter.make();
    const ref = await staged(store);
    fs.appendFileSync(store.resolve(ref.uri), 'tampered');
    await assert.rejects(store.publish(ref, 'risk.scores', 'm1'), { code: 'E_ARTIFACT_CHECKSUM' });
    assert.ok(fs.existsSync(store.resolve(ref.uri)), 'nothing moved');
  });

  it("verifies a worker's claims: staged by that execution, or published by it with the reported checksum", async () => {
    const { store } = adapter.make();
    const ref = await staged(store);
    await store.verify(ref, { executionId: 'exec1' });
    await assert.rejects(store.verify(ref, { executionId: 'exec2' }), (e: unknown) => (e as { code?: string }).code === 'E_OUTCOME_REJECTED' && /staging of execution exec2/.test((e as Error).message));
    const published = await store.publish(ref, 'risk.scores', 'exec1.step.1');
    const claim = { executionId: 'exec1', published: { productId: 'risk.scores', materializationId: 'exec1.step.1' } };
    await store.verify(published, claim);
    const rejected = (why: RegExp) => (e: unknown) => (e as { code?: string }).code === 'E_OUTCOME_REJECTED' && why.test((e as Error).message);
    await assert.rejects(store.verify({ ...published, sha256: '0'.repeat(64) }, claim), rejected(/has sha256/));
    await assert.rejects(store.verify(published, { ...claim, executionId: 'exec2' }), rejected(/did not make/));
    await assert.rejects(store.verify(published, { executionId: 'exec1', published: { productId: 'risk.other', materializationId: 'exec1.step.1' } }), rejected(/is not where/));
    await assert.rejects(store.verify({ ...published, uri: pathToFileURL('/etc/passwd').href }, claim), rejected(/does not check out/));
    await assert.rejects(store.verify(published, { executionId: 'exec1', published: { productId: 'risk.scores', materializationId: 'exec1.x/../../y' } }), rejected(/does not check out/));
  });

  it('refuses references that resolve outside the store root', () => {
    const { store, root } = adapter.make();
    for (const uri of [pathToFileURL('/etc/passwd').href, pathToFileURL(path.join(root, '..', 'x.parquet')).href, `file://${root}/staging/../../escape.parquet`, 's3://bucket/x', 'not a uri']) {
      assert.throws(() => store.resolve(uri), { code: 'E_ARTIFACT_OUTSIDE_ROOT' }, uri);
    }
    assert.throws(() => store.stagingPath('..', 'x', 1), { code: 'E_ARTIFACT_OUTSIDE_ROOT' });
    assert.throws(() => store.stagingPath('e', '../x', 1), { code: 'E_ARTIFACT_OUTSIDE_ROOT' });
  });

  it('garbage-collects the staging of executions untouched for the given age, and nothing published or recent', async () => {
    const { store } = adapter.make();
    const old = store.stagingPath('old_exec', 'step', 1);
    const attemptDir = path.dirname(old);
    const executionDir = path.dirname(attemptDir);
    fs.writeFileSync(old, 'x'.repeat(100));
    fs.mkdirSync(path.join(attemptDir, 'python'));
    fs.writeFileSync(path.join(attemptDir, 'python', 'script.py'), 'pass');
    const published = await store.publish(await staged(store), 'risk.scores', 'm1');
    const recent = store.stagingPath('busy_exec', 'early', 1);
    fs.writeFileSync(recent, 'y');
    const hourAgo = new Date(Date.now() - 3_600_000);
    const recentDirs = [path.dirname(recent), path.dirname(path.dirname(recent))];
    for (const f of [old, path.join(attemptDir, 'python', 'script.py'), path.join(attemptDir, 'python'), attemptDir, executionDir, recent, ...recentDirs]) fs.utimesSync(f, hourAgo, hourAgo);
    // busy_exec wrote something a second ago: its early output stays, whatever its age.
    fs.writeFileSync(store.stagingPath('busy_exec', 'late', 1), 'z');
    const removed = store.collectStaging(30 * 60_000);
    assert.deepEqual(removed, { executions: 1, files: 2, bytes: 104 });
    assert.ok(!fs.existsSync(executionDir), 'the old execution\'s staging is gone');
    assert.ok(fs.existsSync(recent), 'a run still writing keeps its earlier outputs');
    assert.ok(fs.existsSync(store.resolve(published.uri)), 'published versions are never touched');
    assert.deepEqual(store.collectStaging(30 * 60_000), { executions: 0, files: 0, bytes: 0 });
  });
});
