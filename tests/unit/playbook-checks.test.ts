/**
 * `noetl check` on playbooks: one fixture per class of mistake (in
 * tests/fixtures/bad-playbooks, each saying on its first line which code it
 * must produce and where), and a well-formed playbook using every feature
 * passing clean.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parsePlaybook } from '../../services/orchestrator/index.ts';
import { checkDomains } from '../../cli/runtime.ts';
import { fixtureTree, REPO_ROOT } from '../helpers/workspace.ts';

const dir = path.join(REPO_ROOT, 'tests/fixtures/bad-playbooks');
const ctx = { toolKinds: new Set(['noop', 'duckdb']), products: new Set(['shop.orders']), playbooks: new Set(['shop/child']) };

describe('playbook checks find each class of mistake', () => {
  const fixtures = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'));

  it('has a fixture for every class the issue names', () => {
    const codes = new Set(fixtures.map((f) => expectation(fs.readFileSync(path.join(dir, f), 'utf8')).code));
    for (const code of ['E_PLAYBOOK_UNDEFINED_STEP', 'E_PLAYBOOK_UNDEFINED_PRODUCT', 'E_PLAYBOOK_UNDEFINED_CREDENTIAL', 'E_PLAYBOOK_UNDEFINED_VARIABLE', 'E_PLAYBOOK_UNREACHABLE_STEP', 'E_PLAYBOOK_NO_PATH_TO_END', 'E_PLAYBOOK_JOIN_DEADLOCK', 'E_PLAYBOOK_CYCLE_NO_EXIT', 'E_PLAYBOOK_NO_DEFAULT_ARC', 'E_PLAYBOOK_LOOP_NOT_LIST', 'E_WORKLOAD_INVALID']) {
      assert.ok(codes.has(code), `a fixture for ${code}`);
    }
  });

  for (const file of fixtures) {
    it(file, () => {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      const want = expectation(text);
      const r = parsePlaybook(text, file, 'shop', ctx);
      assert.equal(r.playbook, undefined, 'a playbook with an error is not accepted');
      const found = r.diagnostics.filter((d) => d.code === want.code);
      assert.ok(found.length > 0, `${want.code} among ${JSON.stringify(r.diagnostics, null, 1)}`);
      assert.ok(
        found.some((d) => d.line === want.line && d.col === want.col && d.file === file),
        `${want.code} at ${want.line}:${want.col}; found at ${found.map((d) => `${d.line}:${d.col}`).join(', ')}`,
      );
      for (const d of found) assert.ok(d.message.length > 20, 'the message says what is wrong');
    });
  }
});

function expectation(text: string): { code: string; line: number; col: number } {
  const m = /^# expect: (E_[A-Z_]+) at (\d+):(\d+)/.exec(text);
  assert.ok(m, 'the fixture starts with "# expect: CODE at line:col"');
  return { code: m[1]!, line: Number(m[2]), col: Number(m[3]) };
}

describe('a playbook using every feature of the language', () => {
  const full = `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: full, path: shop/full, description: every feature, tags: [example] }
workload:
  regions: [eu, us]
  pages: 3
workload_schema:
  type: object
  properties:
    regions: { type: array, items: { type: string } }
    pages: { type: integer, minimum: 1 }
keychain:
  - { name: warehouse, kind: postgres }
workbook:
  - name: fetch
    tool: { kind: noop, result: "page {{ vars.page }}" }
workflow:
  - step: start
    next: [{ step: per_region, set: { page: 1 } }, { step: paginate, set: { page: 1 } }]
  - step: per_region
    loop: { in: "{{ workload.regions }}", iterator: region, mode: parallel, max_in_flight: 2 }
    tool:
      - { kind: noop, name: first, result: "{{ region }}" }
      - { kind: noop, name: second, result: "{{ previous.value }} again, item {{ iteration }}" }
    retry:
      - { when: "{{ error.code == 'E_TOOL_FAILED' and attempt < 3 }}", then: retry, attempts: 3, backoff: exponential, delay: 100ms }
      - { then: continue }
    next: [{ step: join }]
  - step: paginate
    tool: { kind: workbook, task: fetch }
    timeout: 30s
    next:
      mode: exclusive
      arcs:
        - { step: paginate, when: "{{ vars.page < workload.pages }}", set: { page: "{{ vars.page + 1 }}" } }
        - { step: join }
  - step: join
    tool: { kind: playbook, path: shop/child, input: { regions: "{{ results.per_region }}" } }
    retry: [{ then: jump, step: recover }]
    next: [{ step: done }]
  - step: recover
    next: [{ step: done }]
  - step: done
    consumes: [shop.orders]
    resources: [cpu]
    tool: { kind: duckdb, sql: "SELECT count(*) AS n FROM {{ product('shop.orders') }}", credential: warehouse }
`;

  it('passes every check', () => {
    const r = parsePlaybook(full, 'full.yaml', 'shop', ctx);
    assert.deepEqual(r.diagnostics, []);
    const p = r.playbook!;
    assert.deepEqual(p.tags, ['example']);
    const byName = new Map(p.steps.map((s) => [s.name, s]));
    assert.equal(byName.get('per_region')!.tool.kind, 'tasks');
    assert.deepEqual(byName.get('paginate')!.tool, { kind: 'noop', result: 'page {{ vars.page }}' }, 'the workbook task is expanded');
    assert.deepEqual(byName.get('per_region')!.loop, { in: '{{ workload.regions }}', iterator: 'region', mode: 'parallel', maxInFlight: 2, path: ['workflow', 1, 'loop'] });
    assert.equal(byName.get('join')!.retry[0]!.then, 'jump');
    assert.equal(byName.get('paginate')!.timeoutMs, 30_000);
  });

  it('a sub-playbook that does not exist, and a template the library cannot parse, are reported', () => {
    const bad = full.replace('path: shop/child', 'path: shop/chlid').replace('"{{ region }}"', '"{{ region + }}"');
    const codes = parsePlaybook(bad, 'full.yaml', 'shop', ctx).diagnostics.map((d) => d.code);
    assert.deepEqual(codes.sort(), ['E_PLAYBOOK_NOT_FOUND', 'E_TEMPLATE']);
  });

  it('a template may not read the keychain, and a loop variable exists only in its loop', () => {
    const bad = full.replace('"page {{ vars.page }}"', '"{{ keychain.warehouse }} {{ region }}"');
    const messages = parsePlaybook(bad, 'full.yaml', 'shop', ctx).diagnostics.map((d) => `${d.code}: ${d.message}`);
    assert.equal(messages.length, 2, messages.join('\n'));
    assert.match(messages[0]!, /E_PLAYBOOK_UNDEFINED_VARIABLE: .*credentials never go into templates/);
    assert.match(messages[1]!, /E_PLAYBOOK_UNDEFINED_VARIABLE: .*"region", which is not defined here/);
  });
});

describe('checks across playbooks', () => {
  it('reports sub-playbooks that call each other in a circle, at each call', () => {
    const call = (name: string, target: string) => `apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: { name: ${name} }\nworkflow:\n  - step: go\n    tool: { kind: playbook, path: ${target} }\n`;
    const root = fixtureTree({
      'shop/domain.yaml': 'owners: [shop@example.com]\n',
      'shop/playbooks/ping.yaml': call('ping', 'shop/pong'),
      'shop/playbooks/pong.yaml': call('pong', 'shop/ping'),
      'shop/playbooks/caller.yaml': call('caller', 'shop/ping'),
    });
    try {
      const checked = checkDomains(root);
      const found = checked.diagnostics.filter((d) => d.code === 'E_PLAYBOOK_STEP_CONFLICT');
      assert.deepEqual(found.map((d) => [path.basename(d.file), d.line, d.col]).sort(), [['ping.yaml', 6, 35], ['pong.yaml', 6, 35]]);
      assert.match(found[0]!.message, /shop\/ping, shop\/pong call each other as sub-playbooks in a circle/);
      assert.deepEqual(checked.playbooks.map((p) => p.ref), ['shop/caller'], 'only the playbook outside the circle is accepted');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
