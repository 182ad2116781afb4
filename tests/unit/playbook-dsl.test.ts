import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePlaybook, buildOrder, resultReads, type Playbook } from '../../services/orchestrator/index.ts';

const ctx = { toolKinds: new Set(['duckdb', 'noop']), products: new Set(['shop.orders', 'shop.customers']) };

const valid = `apiVersion: noetl.io/v2
kind: Playbook
metadata:
  name: orders
workload:
  n: 10
workflow:
  - step: start
    tool: { kind: noop }
    next:
      - step: left
      - step: right
  - step: left
    tool: { kind: duckdb, sql: "SELECT 1" }
    next: [{ step: join }]
  - step: right
    tool: { kind: noop }
    next: [{ step: join }]
  - step: join
    produces: shop.orders
    tool: { kind: duckdb, sql: "SELECT 1" }
`;

function diagnostics(text: string) {
  return parsePlaybook(text, 'shop/playbooks/orders.yaml', 'shop', ctx).diagnostics;
}

describe('playbook parsing and static checks', () => {
  it('parses a valid playbook into the model', () => {
    const r = parsePlaybook(valid, 'orders.yaml', 'shop', ctx);
    assert.deepEqual(r.diagnostics, []);
    const p = r.playbook!;
    assert.equal(p.ref, 'shop/orders');
    assert.deepEqual(p.steps.map((s) => s.name), ['start', 'left', 'right', 'join']);
    assert.deepEqual(p.steps[0]!.next.map((a) => a.step), ['left', 'right']);
    assert.equal(p.steps[0]!.mode, 'inclusive');
    assert.equal(p.steps[3]!.produces, 'shop.orders');
  });

  it('reports a typo in a step name with file, line, column and a suggestion', () => {
    const text = valid.replace('next: [{ step: join }]\n  - step: right', 'next: [{ step: jion }]\n  - step: right');
    const d = diagnostics(text);
    assert.equal(d.length, 1, JSON.stringify(d));
    assert.equal(d[0]!.code, 'E_PLAYBOOK_UNDEFINED_STEP');
    assert.equal(d[0]!.file, 'shop/playbooks/orders.yaml');
    assert.equal(d[0]!.line, 15);
    assert.equal(d[0]!.col, 20);
    assert.match(d[0]!.message, /"jion".*did you mean "join"/);
  });

  it('reports unreachable steps, unknown tools and undefined products', () => {
    const text = valid
      .replace('      - step: right\n', '')
      .replace('kind: noop }\n    next: [{ step: join }]', 'kind: spark }\n    next: [{ step: join }]')
      .replace('produces: shop.orders', 'produces: shop.refunds');
    const codes = diagnostics(text).map((d) => `${d.code}@${d.line}`);
    assert.deepEqual(codes.sort(), ['E_PLAYBOOK_UNDEFINED_PRODUCT@19', 'E_PLAYBOOK_UNKNOWN_TOOL@16', 'E_PLAYBOOK_UNREACHABLE_STEP@15'].sort());
  });

  it('reports duplicate step names', () => {
    const d = diagnostics(valid.replace('  - step: right\n    tool', '  - step: left\n    tool'));
    assert.ok(d.some((x) => x.code === 'E_PLAYBOOK_DUPLICATE_STEP' && x.line === 16));
  });

  it('reports shape errors at the offending field', () => {
    const d = diagnostics(valid.replace('    tool: { kind: noop }\n    next:\n', '    tool: { kind: noop }\n    nxt: 1\n    next:\n'));
    assert.equal(d[0]?.code, 'E_PLAYBOOK_INVALID');
    assert.match(d[0].message, /unknown field "nxt"/);
    assert.equal(d[0].line, 8);
  });

  it('reports YAML syntax errors with their position', () => {
    const d = diagnostics(valid.replace('  n: 10', '  n: [10'));
    assert.equal(d[0]?.code, 'E_YAML_SYNTAX');
    assert.ok(d[0].line >= 6);
  });

  it('accepts next as {mode, arcs}', () => {
    const text = valid.replace('    next:\n      - step: left\n      - step: right\n', '    next:\n      mode: exclusive\n      arcs:\n        - { step: left, when: "{{ workload.n > 5 }}" }\n        - step: right\n');
    const r = parsePlaybook(text, 'o.yaml', 'shop', ctx);
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.playbook!.steps[0]!.mode, 'exclusive');
    assert.equal(r.playbook!.steps[0]!.next[0]!.when, '{{ workload.n > 5 }}');
  });
});

describe('build order', () => {
  const pb = (ref: string, produces: string[], consumes: string[]): Playbook => ({
    ref, domain: ref.split('/')[0]!, name: ref.split('/')[1]!, description: undefined, tags: [], workload: {}, workloadSchema: undefined, keychain: [], file: ref,
    steps: [{ name: 's', desc: undefined, tool: { kind: 'noop' }, mode: 'inclusive', next: [], path: [], produces: produces[0], consumes, retry: [], loop: undefined, timeoutMs: undefined, resources: [] }],
  });

  it('puts producers before consumers and reports cycles', () => {
    const a = pb('m/a', ['m.a'], ['r.b']);
    const b = pb('r/b', ['r.b'], []);
    const c = pb('x/c', ['x.c'], ['y.d']);
    const d = pb('y/d', ['y.d'], ['x.c']);
    const { order, cyclic } = buildOrder([a, b, c, d]);
    assert.deepEqual(order.map((p) => p.ref), ['r/b', 'm/a']);
    assert.deepEqual(cyclic.map((p) => p.ref), ['x/c', 'y/d']);
  });
});

describe('results a command carries', () => {
  const reads = (workflow: string) => {
    const r = parsePlaybook(`apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: { name: r }\nworkflow:\n${workflow}`, 'r.yaml', 'shop', ctx);
    assert.deepEqual(r.diagnostics, []);
    const m = resultReads(r.playbook!);
    return (step: string) => {
      const v = m.get(step)!;
      return v === 'all' ? 'all' : [...v].sort();
    };
  };

  it('are those of the steps its tool names, in templates or as SQL words (any case)', () => {
    const of = reads(`  - { step: load, tool: { kind: duckdb, sql: "SELECT 1 AS x" }, next: [{ step: other }] }
  - { step: other, tool: { kind: noop, result: "{{ results.load.rows }}" }, next: [{ step: sum }] }
  - { step: sum, tool: { kind: duckdb, sql: "SELECT count(*) FROM Load JOIN other USING (x)" }, next: [{ step: tail }] }
  - { step: tail, tool: { kind: noop } }
`);
    assert.deepEqual(of('load'), []);
    assert.deepEqual(of('other'), ['load']);
    assert.deepEqual(of('sum'), ['load', 'other']);
    assert.deepEqual(of('tail'), []);
  });

  it('are all of them when a template reads results as a whole or by a computed key', () => {
    const of = reads(`  - { step: a, tool: { kind: noop }, next: [{ step: b }] }
  - { step: b, tool: { kind: noop, result: "{{ results }}" }, next: [{ step: c }] }
  - { step: c, tool: { kind: noop, result: "{{ results[workload.which] }}" }, next: [{ step: d }] }
  - { step: d, tool: { kind: noop, result: "{{ results | length }}" } }
`);
    assert.equal(of('b'), 'all');
    assert.equal(of('c'), 'all');
    assert.equal(of('d'), 'all');
  });
});
