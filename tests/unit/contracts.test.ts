import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { bindDistinct, checkConformance, compileChecks, distinctColumns, evaluateChecks, extrasQuery, fusedQuery, logicalTypeOf, MAX_BITMAP_RANGE, parseContract, type Contract } from '../../contracts/index.ts';
import { SHIPPED_DOMAINS } from '../helpers/workspace.ts';

const base = `apiVersion: v3.1.0
kind: DataContract
id: shop.orders
version: 1.2.0
status: active
domain: shop
dataProduct: orders
team:
  name: shop
  members:
    - username: shop@example.com
      role: owner
schema:
  - name: orders
    properties:
      - name: order_id
        logicalType: integer
        required: true
        unique: true
      - name: status
        logicalType: string
        quality:
          - metric: invalidValues
            arguments: { validValues: [open, shipped] }
            mustBe: 0
      - name: amount
        logicalType: number
        logicalTypeOptions: { minimum: 0, maximum: 1000 }
    quality:
      - metric: rowCount
        mustBeBetween: [1, 100]
`;

function contract(text = base): Contract {
  const r = parseContract(text, 'orders.odcs.yaml');
  assert.deepEqual(r.diagnostics, []);
  return r.contract!;
}

describe('contract parsing', () => {
  it('reads every shipped contract without diagnostics', () => {
    const files = fs.readdirSync(SHIPPED_DOMAINS).flatMap((d) => {
      const dir = path.join(SHIPPED_DOMAINS, d, 'products');
      return fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => path.join(dir, f)) : [];
    });
    assert.ok(files.length >= 3);
    for (const f of files) {
      const r = parseContract(fs.readFileSync(f, 'utf8'), f);
      assert.deepEqual(r.diagnostics, [], f);
      assert.ok(r.contract!.owners.length > 0, `${f} has an owner`);
    }
  });

  it('narrows the ODCS document to the model', () => {
    const c = contract();
    assert.equal(c.productId, 'shop.orders');
    assert.deepEqual(c.owners, ['shop@example.com']);
    assert.equal(c.properties.length, 3);
    assert.equal(c.properties[2]!.maximum, 1000);
    assert.deepEqual(c.quality[0]!.comparison, { op: 'mustBeBetween', value: [1, 100] });
  });

  it('reports schema errors at their line and column', () => {
    const bad = base.replace('logicalType: number', 'logicalType: decimal');
    const r = parseContract(bad, 'orders.odcs.yaml');
    assert.equal(r.contract, undefined);
    const d = r.diagnostics.find((x) => x.message.includes('logicalType'));
    assert.ok(d, JSON.stringify(r.diagnostics));
    assert.equal(d.code, 'E_CONTRACT_INVALID');
    assert.equal(d.line, bad.split('\n').findIndex((l) => l.includes('decimal')) + 1);
    assert.equal(d.col, 22);
  });

  it('requires the id to be <domain>.<dataProduct>', () => {
    const r = parseContract(base.replace('id: shop.orders', 'id: orders'), 'x.odcs.yaml');
    assert.equal(r.diagnostics[0]?.code, 'E_CONTRACT_INVALID');
    assert.match(r.diagnostics[0].message, /shop\.orders/);
    assert.equal(r.diagnostics[0].line, 3);
  });

  it('refuses rules that name unknown columns, lack a comparison, or carry a broken pattern', () => {
    const cases: [string, RegExp][] = [
      [base.replace('      - name: amount\n', '      - name: amount\n        quality: [{ type: custom, engine: noetl, implementation: { check: statistic, statistic: avg, column: nope, mustBe: 1 } }]\n'), /column "nope"/],
      [base.replace('      - name: amount\n', '      - name: amount\n        quality: [{ type: custom, engine: noetl, implementation: { check: drift } }]\n'), /exactly one of/],
      [base.replace('        logicalTypeOptions: { minimum: 0, maximum: 1000 }', '        logicalTypeOptions: { minimum: 0, maximum: 1000 }\n      - { name: code, logicalType: string, logicalTypeOptions: { pattern: "([a-z" } }'), /not a valid regular expression/],
      [base.replace('        mustBeBetween: [1, 100]', '        mustBeBetween: [1, 100]\n      - { type: sql, query: "SELECT 1", mustBe: 1 }'), /\$\{table\}/],
    ];
    for (const [text, message] of cases) {
      const r = parseContract(text, 'x.odcs.yaml');
      assert.equal(r.contract, undefined, String(message));
      assert.ok(r.diagnostics.some((d) => message.test(d.message)), `${String(message)}: ${JSON.stringify(r.diagnostics)}`);
    }
  });

  it('refuses a rule with no comparison operator', () => {
    const r = parseContract(base.replace('        mustBeBetween: [1, 100]\n', ''), 'x.odcs.yaml');
    assert.ok(r.diagnostics.length > 0);
    assert.equal(r.contract, undefined);
  });
});

describe('check compiler', () => {
  it('fuses every check into one SELECT', () => {
    const plan = compileChecks(contract());
    const ids = plan.checks.map((c) => c.id);
    assert.deepEqual(ids, ['order_id.required', 'order_id.unique', 'status.invalidValues.0', 'amount.range', 'orders.rowCount.0']);
    const sql = fusedQuery(plan, 't');
    assert.equal(sql.match(/\bSELECT\b/g)?.length, 1);
    assert.equal(sql.match(/\bFROM\b/g)?.length, 1);
    assert.match(sql, /NOT list_contains\(\['open', 'shipped'\], "status"\)/);
    assert.match(sql, /count_if\("amount" < 0 OR "amount" > 1000\)/);
    // Extras explain failures and are read only then, in a query of their own.
    assert.doesNotMatch(sql, /min\("amount"\)/);
    const range = plan.checks.find((c) => c.id === 'amount.range')!;
    assert.equal(extrasQuery([range], 't'), `SELECT min("amount") AS "${range.metric}__min", max("amount") AS "${range.metric}__max" FROM t`);
    assert.equal(extrasQuery(plan.checks.filter((c) => c.id === 'order_id.required'), 't'), undefined);
  });

  it('counts the distinct values of an integer key with a bitmap when its range is known, else with count(DISTINCT)', () => {
    const plan = compileChecks(contract());
    assert.deepEqual(distinctColumns(plan), ['order_id']);
    assert.match(fusedQuery(plan, 't'), /count\("order_id"\) - count\(DISTINCT "order_id"\)/);
    assert.match(fusedQuery(plan, 't', { order_id: { min: 3n, max: 900n } }), /count\("order_id"\) - bit_count\(bitstring_agg\("order_id", 3, 900\)\)/);
    // Too wide a range for a bitmap: the hash table it is.
    assert.match(fusedQuery(plan, 't', { order_id: { min: 0n, max: MAX_BITMAP_RANGE } }), /count\(DISTINCT "order_id"\)/);
    // Names that need quoting survive the placeholder.
    assert.equal(bindDistinct(`\${distinct:${encodeURIComponent('a}b"c')}}`), 'count(DISTINCT "a}b""c")');
  });

  it('keeps NOT IN (and its casts) for valid values that are not all strings of a string column', () => {
    const c = contract(base.replace('[open, shipped]', '[1, 2]'));
    assert.match(fusedQuery(compileChecks(c), 't'), /"status" NOT IN \(1, 2\)/);
  });

  it('shares identical aggregates between checks', () => {
    // `required` and a nullValues rule in rows compute the same aggregate: one column serves both.
    const c = contract(base.replace('        required: true\n        unique: true\n', '        required: true\n        unique: true\n        quality:\n          - metric: nullValues\n            mustBe: 0\n            severity: warning\n'));
    const plan = compileChecks(c);
    const required = plan.checks.find((x) => x.id === 'order_id.required')!;
    const nulls = plan.checks.find((x) => x.id === 'order_id.nullValues.0')!;
    assert.equal(required.metric, nulls.metric);
    const exprs = [...plan.expressions.values()];
    assert.equal(new Set(exprs).size, exprs.length, 'no aggregate is computed twice');
  });

  it('judges metric values against each comparison', () => {
    const plan = compileChecks(contract());
    const metric = (id: string): string => plan.checks.find((c) => c.id === id)!.metric!;
    const row: Record<string, unknown> = {
      row_count: 150n,
      [metric('order_id.required')]: 0n,
      [metric('order_id.unique')]: 2n,
      [metric('status.invalidValues.0')]: 0,
      [metric('amount.range')]: 1,
      [`${metric('amount.range')}__min`]: -5,
      [`${metric('amount.range')}__max`]: 20,
      [metric('orders.rowCount.0')]: 150n,
    };
    const results = Object.fromEntries(evaluateChecks(plan, row).map((r) => [r.id, r]));
    assert.equal(results['order_id.required']!.passed, true);
    assert.equal(results['order_id.unique']!.passed, false);
    assert.equal(results['order_id.unique']!.observed, 2);
    assert.equal(results['amount.range']!.passed, false);
    assert.deepEqual(results['amount.range']!.extras, { min: -5, max: 20 });
    assert.equal(results['orders.rowCount.0']!.passed, false);
    assert.equal(results['orders.rowCount.0']!.expected, 'between 1 and 100');
  });

  it('treats a missing metric as a failure, never a pass', () => {
    const plan = compileChecks(contract());
    assert.ok(evaluateChecks(plan, {}).every((r) => !r.passed));
  });

  it('escapes quotes in values and identifiers', () => {
    const tricky = base.replace('[open, shipped]', `["it's", open]`).replace('name: status', 'name: st"atus');
    const r = parseContract(tricky, 'x.odcs.yaml');
    // st"atus is not a valid property name: refused before any SQL is built.
    assert.equal(r.contract, undefined);
    const ok = compileChecks(contract(base.replace('[open, shipped]', `["it's", open]`)));
    assert.match(fusedQuery(ok, 't'), /'it''s'/);
  });
});

describe('schema conformance', () => {
  it('accepts matching engine types, including integer for number', () => {
    const c = contract();
    const actual = [{ name: 'order_id', type: 'BIGINT' }, { name: 'status', type: 'VARCHAR' }, { name: 'amount', type: 'INTEGER' }];
    assert.deepEqual(checkConformance(c, actual), []);
  });

  it('reports missing columns and wrong types as errors, extra columns as warnings', () => {
    const c = contract();
    const problems = checkConformance(c, [{ name: 'order_id', type: 'VARCHAR' }, { name: 'amount', type: 'DOUBLE' }, { name: 'extra', type: 'DATE' }]);
    assert.deepEqual(
      problems.map((p) => [p.column, p.severity, p.observed]),
      [['order_id', 'error', 'VARCHAR'], ['status', 'error', 'missing'], ['extra', 'warning', 'DATE']],
    );
  });

  it('maps engine types to logical types', () => {
    assert.equal(logicalTypeOf('DECIMAL(18,3)'), 'number');
    assert.equal(logicalTypeOf('TIMESTAMP WITH TIME ZONE'), 'timestamp');
    assert.equal(logicalTypeOf('INTEGER[]'), 'array');
    assert.equal(logicalTypeOf('STRUCT(a INTEGER)'), 'object');
    assert.equal(logicalTypeOf('HUGEINT'), 'integer');
  });
});
