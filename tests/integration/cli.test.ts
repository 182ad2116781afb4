/** The `noetl` command line as a user runs it: check, run and dev in child processes on real files. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runNoetl, startNoetl } from '../helpers/cli.ts';
import { fixtureTree, workspace } from '../helpers/workspace.ts';

const PLAYBOOK = `apiVersion: noetl.io/v2
kind: Playbook
metadata:
  name: daily
workflow:
  - step: start
    tool: { kind: noop }
    next:
      - step: finsh
  - step: finish
    tool: { kind: noop }
`;

describe('noetl check', () => {
  const ws = workspace();
  after(() => ws.cleanup());

  it('accepts every shipped domain', async () => {
    const r = await runNoetl(['check'], { cwd: ws.root });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ok: 4 domains, 4 contracts, 5 valid playbooks checked$/m);
  });

  it('exits 1 on a typo in a step name, printing file:line:col: code: message', async () => {
    const root = fixtureTree({ 'domains/ops/domain.yaml': 'owners: [ops@example.com]\n', 'domains/ops/playbooks/daily.yaml': PLAYBOOK });
    const r = await runNoetl(['check'], { cwd: root });
    assert.equal(r.code, 1);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], 'domains/ops/playbooks/daily.yaml:9:15: E_PLAYBOOK_UNDEFINED_STEP: step "start" goes next to "finsh", which is not defined (did you mean "finish"?)');
    assert.match(lines.at(-1)!, /^2 errors: /);
    const json = await runNoetl(['check', '--format', 'json'], { cwd: root });
    assert.equal(json.code, 1);
    const parsed = JSON.parse(json.stdout) as { ok: boolean; diagnostics: { code: string; line: number; col: number }[] };
    assert.equal(parsed.ok, false);
    assert.deepEqual(parsed.diagnostics.map((d) => [d.code, d.line, d.col]), [['E_PLAYBOOK_UNDEFINED_STEP', 9, 15], ['E_PLAYBOOK_UNREACHABLE_STEP', 10, 11]]);
  });

  it('reports a broken contract and a domain without owners', async () => {
    const root = fixtureTree({
      'domains/ops/domain.yaml': 'description: no owners here\n',
      'domains/ops/products/jobs.odcs.yaml': 'apiVersion: v3.1.0\nkind: DataContract\nid: ops.jobs\nversion: one\n',
    });
    const r = await runNoetl(['check'], { cwd: root });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^domains\/ops\/domain\.yaml:1:1: E_DOMAIN_INVALID: domain\.yaml must list owners/m);
    assert.match(r.stdout, /^domains\/ops\/products\/jobs\.odcs\.yaml:4:10: E_CONTRACT_INVALID: version must match pattern/m);
  });
});

describe('noetl run and noetl dev', () => {
  const ws = workspace();
  after(() => ws.cleanup());

  it('runs one playbook with live progress and a summary; the embedded database persists between runs', async () => {
    const r = await runNoetl(['run', 'risk/score_applications'], { cwd: ws.root });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^▶ risk\/score_applications$/m);
    assert.match(r.stdout, /^ {2}✓ generate_applications \(20,000 rows/m);
    assert.match(r.stdout, /gate risk\.application_scores@2\.0\.0: passed, 14\/15 checks passed, 1 skipped; published/);
    assert.match(r.stdout, /^✔ risk\/score_applications completed in \d+ ms/m);
    // A second process finds risk's product published and builds the consumer.
    const m = await runNoetl(['run', 'marketing/build_campaign_targets', '--set', 'channel=sms'], { cwd: ws.root });
    assert.equal(m.code, 0, m.stdout + m.stderr);
    assert.match(m.stdout, /✔ marketing\/build_campaign_targets completed/);
  });

  it('shows lineage across domains at column level, as a tree, Mermaid, DOT or JSON', async () => {
    const tree = await runNoetl(['lineage', 'marketing.campaign_targets.best_score', '--upstream'], { cwd: ws.root });
    assert.equal(tree.code, 0, tree.stderr);
    assert.match(tree.stdout, /^└─ risk\.application_scores\.score {2}\[DIRECT\/AGGREGATION\]$/m);
    assert.match(tree.stdout, /generate_applications\.annual_income {2}\[DIRECT\/TRANSFORMATION\]/);
    const mermaid = await runNoetl(['lineage', 'risk.application_scores', '--format', 'mermaid'], { cwd: ws.root });
    assert.match(mermaid.stdout, /^graph LR$/m);
    assert.match(mermaid.stdout, /\["marketing\.campaign_targets"\]/);
    const dot = await runNoetl(['lineage', 'risk.application_scores', '--downstream', '--format', 'dot'], { cwd: ws.root });
    assert.match(dot.stdout, /"risk\.application_scores" -> "marketing\.campaign_targets" \[label="build_campaign_targets\.pick_targets"\];/);
    const json = await runNoetl(['lineage', 'risk.application_scores', '--downstream', '--depth', '1', '--format', 'json'], { cwd: ws.root });
    const answer = JSON.parse(json.stdout) as { nodes: { name: string }[]; partial: unknown[] };
    assert.deepEqual(answer.nodes.map((n) => n.name), ['marketing.campaign_targets']);
    const bad = await runNoetl(['lineage', 'not-a-target'], { cwd: ws.root });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /is not a product/);
  });

  it('exits 1 when the quality gate fails, naming product, check, expected and observed', async () => {
    const r = await runNoetl(['run', 'risk/score_applications', '--set', 'applications=200'], { cwd: ws.root });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /✘ risk\/score_applications failed/);
    assert.match(r.stdout, /E_QUALITY_GATE_FAILED: .*risk\.application_scores: check application_scores\.rowCount\.0: row count: expected between 1000 and 10000000, observed 200/s);
  });

  it('fails fast, naming the variable, on bad configuration', async () => {
    const r = await runNoetl(['run', 'risk/score_applications'], { cwd: ws.root, env: { NOETL_PORT: 'eighty' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_CONFIG_INVALID: NOETL_PORT="eighty" is invalid: expected an integer/);
  });

  it('dev builds every domain, then serves the catalog until stopped', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = startNoetl(['dev'], { cwd: ws.root, env: { NOETL_PORT: String(port) } });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const deadline = Date.now() + 60_000;
      while (!out.includes('catalog at')) {
        if (Date.now() > deadline || child.exitCode !== null) assert.fail(`dev did not start serving:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(out, /built 4\/4 playbooks/);
      const res = await fetch(`http://127.0.0.1:${port}/products`);
      const { products } = (await res.json()) as { products: { id: string; lastQuality: { passed: boolean } | null }[] };
      assert.equal(products.length, 4);
      assert.ok(products.every((p) => p.lastQuality?.passed === true), JSON.stringify(products));
      const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      assert.match(page, /risk\.application_scores/);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, out);
    assert.ok(!fs.existsSync(path.join(ws.home, 'db.lock')), 'the database lock is released on exit');
  });
});

describe('noetl run never passes for a success without one', () => {
  it('exits 1 naming E_EXECUTION_POISONED when the execution cannot go on (a command too large for the bus)', async () => {
    const step = (name: string): string => `  - { step: ${name}, tool: { kind: noop, result: "{{ range(60000) | join(',') }}" }, next: [{ step: all }] }\n`;
    const root = fixtureTree({
      'domains/ops/domain.yaml': 'owners: [ops@example.com]\n',
      'domains/ops/playbooks/big.yaml': `apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: { name: big }\nworkflow:\n  - { step: start, next: [{ step: a }, { step: b }, { step: c }, { step: d }] }\n${['a', 'b', 'c', 'd'].map(step).join('')}  - { step: all, tool: { kind: noop, result: "{{ results.a.value | length + results.b.value | length + results.c.value | length + results.d.value | length }}" } }\n`,
    });
    try {
      const r = await runNoetl(['run', 'ops/big'], { cwd: root });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /✘ ops\/big failed/);
      assert.match(r.stdout, /E_EXECUTION_POISONED: .*E_MESSAGE_TOO_LARGE/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
