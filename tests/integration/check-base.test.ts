/**
 * `noetl check --base` in a real git repository made inside the test: a base
 * commit of the shipped domains, then changes on top, checked as CI would.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createLogger, loadDomains, migrate, openDatabase } from '../../platform/index.ts';
import { buildApp, syncCatalog } from '../../services/registry/index.ts';
import { runNoetl } from '../helpers/cli.ts';
import { SHIPPED_DOMAINS, tempDir } from '../helpers/workspace.ts';

function repo(): { root: string; git: (...args: string[]) => string; edit: (file: string, from: string, to: string) => void } {
  const root = tempDir('noetl-git-');
  fs.cpSync(SHIPPED_DOMAINS, path.join(root, 'domains'), { recursive: true });
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: root, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  git('-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'commit', '-q', '--allow-empty', '-m', 'empty');
  git('add', '-A');
  git('-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'commit', '-q', '-m', 'base');
  const edit = (file: string, from: string, to: string): void => {
    const p = path.join(root, file);
    const text = fs.readFileSync(p, 'utf8');
    assert.ok(text.includes(from), `${file} has ${from}`);
    fs.writeFileSync(p, text.replace(from, to));
  };
  return { root, git, edit };
}

const RISK = 'domains/risk/products/application_scores.odcs.yaml';

type Json = { ok: boolean; reports: { productId: string; kind: string; failures: { rule: string; line: number }[]; changes: { rule: string; severity: string; line: number }[]; impact?: { products: { id: string; domain: string; owners: string[] }[]; playbooks: string[] } }[] };

describe('noetl check --base <git-ref>', () => {
  it('passes when nothing changed', async () => {
    const { root } = repo();
    const r = await runNoetl(['check', '--base', 'HEAD'], { cwd: root });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /0 contracts changed since HEAD/);
  });

  it('fails a breaking change without a major bump, naming the change, its line, and who it breaks', async () => {
    const { root, edit } = repo();
    edit(RISK, '      - name: customer_id\n        logicalType: integer\n        required: true\n', '');
    const r = await runNoetl(['check', '--base', 'HEAD', '--format', 'json'], { cwd: root });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as Json;
    const risk = out.reports.find((x) => x.productId === 'risk.application_scores')!;
    assert.deepEqual(risk.failures.map((f) => f.rule), ['breaking-without-major']);
    assert.deepEqual(risk.changes.map((c) => `${c.severity} ${c.rule}`), ['error field-removed']);
    assert.deepEqual(risk.impact!.products.map((p) => [p.id, p.domain, p.owners]), [['marketing.campaign_targets', 'marketing', ['growth-analytics@example.com']]]);
    assert.deepEqual(risk.impact!.playbooks, ['marketing/build_campaign_targets']);
    const text = await runNoetl(['check', '--base', 'HEAD'], { cwd: root });
    assert.match(text.stdout, /^ {2}domains\/risk\/products\/application_scores\.odcs\.yaml:5:10: error breaking-without-major: 1 breaking change \(field-removed\) needs a major version: 2\.0\.0 → 3\.0\.0, not 2\.0\.0$/m);
    assert.match(text.stdout, /downstream: marketing\.campaign_targets \(marketing; growth-analytics@example\.com\)/);
  });

  it('adds downstream products that only the registry\'s lineage graph knows (--server)', async () => {
    const { root, edit } = repo();
    edit(RISK, 'classification: pii', 'classification: public');
    const database = await openDatabase({ kind: 'embedded', dataDir: undefined });
    await migrate(database);
    await syncCatalog(database.db, loadDomains(path.join(root, 'domains')));
    // An edge no playbook declares: say, reported by another producer's OpenLineage events.
    const at = new Date().toISOString();
    await database.db.insertInto('lineage_edges').values({ src_namespace: 'noetl://products', src_name: 'risk.application_scores', job_namespace: 'spark://etl', job_name: 'nightly', dst_namespace: 'noetl://products', dst_name: 'observability.service_latency', first_seen: at, last_seen: at }).execute();
    const app = await buildApp({ db: database.db, log: createLogger({ level: 'error' }), mode: 'embedded' });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const r = await runNoetl(['check', '--base', 'HEAD', '--server', url, '--format', 'json'], { cwd: root });
      const risk = (JSON.parse(r.stdout) as Json).reports.find((x) => x.productId === 'risk.application_scores')!;
      assert.deepEqual(risk.impact!.products.map((p) => p.id).sort(), ['marketing.campaign_targets', 'observability.service_latency']);
    } finally {
      await app.close();
      await database.close();
    }
  });

  it('accepts the same change with a major bump, still listing it as breaking, once no relationship names the removed column', async () => {
    const { root, edit } = repo();
    edit(RISK, '      - name: customer_id\n        logicalType: integer\n        required: true\n', '');
    edit(RISK, 'version: 2.0.0', 'version: 3.0.0');
    const r = await runNoetl(['check', '--base', 'HEAD', '--format', 'json'], { cwd: root });
    const out = JSON.parse(r.stdout) as Json & { diagnostics: { file: string; line: number; col: number; code: string; message: string }[] };
    assert.deepEqual(out.reports.find((x) => x.productId === 'risk.application_scores')!.failures, []);
    // The version is right, but marketing's relationship to application_scores.customer_id now points at nothing.
    assert.equal(r.code, 1, r.stdout);
    assert.deepEqual(out.diagnostics.map((d) => [d.file, d.line, d.col, d.code]), [['domains/marketing/products/campaign_targets.odcs.yaml', 26, 37, 'E_CONTRACT_INVALID']]);
    assert.match(out.diagnostics[0]!.message, /relates to application_scores\.customer_id, but table "application_scores" \(contract risk\.application_scores\) has no column "customer_id"/);
    // Once marketing lets go of it in the same change, the check passes.
    edit('domains/marketing/products/campaign_targets.odcs.yaml', '        relationships:\n          - { type: foreignKey, to: application_scores.customer_id }\n', '');
    const after = await runNoetl(['check', '--base', 'HEAD'], { cwd: root });
    assert.equal(after.code, 0, after.stdout + after.stderr);
  });

  it('annotates GitHub pull requests and writes a Markdown summary', async () => {
    const { root, edit, git } = repo();
    edit(RISK, 'classification: pii', 'classification: public');
    git('-c', 'user.email=ci@example.com', '-c', 'user.name=ci', 'commit', '-q', '-am', 'weaken');
    const gh = await runNoetl(['check', '--base', 'HEAD~1', '--format', 'github'], { cwd: root });
    assert.equal(gh.code, 1);
    const lines = gh.stdout.split('\n');
    assert.ok(lines.some((l) => /^::error file=domains\/risk\/products\/application_scores\.odcs\.yaml,line=5,col=10,title=noetl breaking-without-major::/.test(l)), gh.stdout);
    assert.ok(lines.some((l) => /^::warning file=domains\/risk\/products\/application_scores\.odcs\.yaml,line=\d+,col=\d+,title=noetl breaking%3A classification-weakened::field "email" classification weakened from pii to public$/.test(l)), gh.stdout);
    const md = await runNoetl(['check', '--base', 'HEAD~1', '--format', 'markdown'], { cwd: root });
    assert.match(md.stdout, /^## noetl contract check against `HEAD~1`: ❌ failed$/m);
    assert.match(md.stdout, /\| breaking \| `classification-weakened` \|/);
    assert.match(md.stdout, /- `marketing\.campaign_targets` \(domain marketing, owners growth-analytics@example\.com\)/);
  });

  it('fails removing a product that another domain consumes, and a version going backwards', async () => {
    const { root, edit } = repo();
    fs.rmSync(path.join(root, RISK));
    edit('domains/healthcare/products/patient_cohort.odcs.yaml', 'version: 1.0.0', 'version: 0.9.0');
    const r = await runNoetl(['check', '--base', 'HEAD', '--format', 'json'], { cwd: root });
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout) as Json;
    const failures = out.reports.flatMap((x) => x.failures.map((f) => `${x.productId} ${f.rule}`)).sort();
    assert.deepEqual(failures, ['healthcare.patient_cohort version-backwards', 'risk.application_scores product-removed-in-use']);
  });

  it('reports a new product as added, and refuses a base git does not know', async () => {
    const { root } = repo();
    const dir = path.join(root, 'domains/risk/products');
    fs.writeFileSync(path.join(dir, 'limits.odcs.yaml'), fs.readFileSync(path.join(root, RISK), 'utf8').replace('id: risk.application_scores', 'id: risk.limits').replace('dataProduct: application_scores', 'dataProduct: limits').replace('  - name: application_scores\n', '  - name: limits\n'));
    const r = await runNoetl(['check', '--base', 'HEAD', '--format', 'json'], { cwd: root });
    const out = JSON.parse(r.stdout) as Json;
    assert.deepEqual(out.reports.map((x) => [x.productId, x.kind]), [['risk.limits', 'added']]);
    const bad = await runNoetl(['check', '--base', 'no-such-ref'], { cwd: root });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /no-such-ref/);
  });
});
