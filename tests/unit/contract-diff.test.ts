/**
 * The breaking-change ladder on a corpus of contract pairs: one base contract,
 * one edited head per rule, each classified exactly as the ladder says.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareSemver, diffContracts, parseContract, versionFindings, type Contract } from '../../contracts/index.ts';

const BASE = `apiVersion: v3.1.0
kind: DataContract
id: shop.orders
version: 1.4.0
status: active
domain: shop
dataProduct: orders
description: { purpose: Orders. }
team: { name: shop, members: [{ username: shop@example.com, role: owner }] }
schema:
  - name: orders
    properties:
      - { name: order_id, logicalType: integer, physicalType: INTEGER, required: true, primaryKey: true }
      - { name: customer_id, logicalType: integer, required: true, relationships: [{ type: foreignKey, to: customers.customer_id }] }
      - { name: email, logicalType: string, classification: pii, logicalTypeOptions: { maxLength: 200 } }
      - { name: amount, logicalType: number, logicalTypeOptions: { minimum: 0, maximum: 1000 }, description: Order total. }
      - name: status
        logicalType: string
        quality: [{ metric: invalidValues, arguments: { validValues: [open, shipped, returned] }, mustBe: 0 }]
      - { name: note, logicalType: string }
    quality:
      - { metric: rowCount, mustBeBetween: [10, 1000000] }
      - { name: avg amount, type: custom, engine: noetl, implementation: { check: statistic, statistic: avg, column: amount, mustBeBetween: [10, 500] }, severity: warning }
`;

function parse(text: string): Contract {
  const r = parseContract(text, 'orders.odcs.yaml');
  assert.deepEqual(r.diagnostics, [], text);
  return r.contract!;
}

const base = parse(BASE);
const edit = (...pairs: [string, string][]): string => pairs.reduce((t, [a, b]) => {
  assert.ok(t.includes(a), `corpus edit does not apply: ${a}`);
  return t.replace(a, b);
}, BASE);

/** [case, head text, expected "severity rule" list (sorted)]. */
const CORPUS: [string, string, string[]][] = [
  ['field removed', edit(['      - { name: note, logicalType: string }\n', '']), ['error field-removed']],
  ['field renamed', edit(['{ name: note, logicalType: string }', '{ name: remark, logicalType: string }']), ['error field-renamed']],
  ['type changed', edit(['{ name: note, logicalType: string }', '{ name: note, logicalType: integer }']), ['error type-changed']],
  ['type narrowed (physical)', edit(['physicalType: INTEGER', 'physicalType: SMALLINT']), ['error type-narrowed']],
  ['type widened (physical)', edit(['physicalType: INTEGER', 'physicalType: BIGINT']), ['info type-widened']],
  ['optional → required', edit(['{ name: note, logicalType: string }', '{ name: note, logicalType: string, required: true }']), ['error became-required']],
  ['required → optional', edit(['{ name: customer_id, logicalType: integer, required: true,', '{ name: customer_id, logicalType: integer,']), ['info became-optional']],
  ['new unique', edit(['{ name: note, logicalType: string }', '{ name: note, logicalType: string, unique: true }']), ['error new-unique']],
  ['new primary key', edit(['{ name: customer_id, logicalType: integer, required: true,', '{ name: customer_id, logicalType: integer, required: true, primaryKey: true,']), ['error new-primary-key']],
  ['primary key dropped', edit(['required: true, primaryKey: true }', 'required: true }']), ['warning primary-key-changed']],
  ['classification weakened', edit(['classification: pii', 'classification: public']), ['error classification-weakened']],
  ['classification strengthened', edit(['{ name: note, logicalType: string }', '{ name: note, logicalType: string, classification: confidential }']), ['info classification-strengthened']],
  ['new error-level rule', edit(['      - { name: note, logicalType: string }\n', '      - { name: note, logicalType: string, quality: [{ metric: nullValues, mustBe: 0 }] }\n']), ['error rule-added']],
  ['new warning-level rule', edit(['      - { name: note, logicalType: string }\n', '      - { name: note, logicalType: string, quality: [{ metric: nullValues, mustBe: 0, severity: warning }] }\n']), ['info rule-added-warning']],
  ['rule severity raised', edit(['mustBeBetween: [10, 500] }, severity: warning }', 'mustBeBetween: [10, 500] }, severity: error }']), ['error rule-severity-raised']],
  ['rule tightened', edit(['mustBeBetween: [10, 1000000]', 'mustBeBetween: [100, 1000000]']), ['error rule-tightened']],
  ['rule loosened', edit(['mustBeBetween: [10, 1000000]', 'mustBeBetween: [1, 5000000]']), ['info rule-loosened']],
  ['rule removed', edit(['      - { metric: rowCount, mustBeBetween: [10, 1000000] }\n', '']), ['info rule-removed']],
  ['range tightened', edit(['minimum: 0, maximum: 1000', 'minimum: 0, maximum: 500']), ['error range-tightened']],
  ['range gained a bound', edit(['{ name: note, logicalType: string }', '{ name: note, logicalType: string, logicalTypeOptions: { minLength: 1 } }']), ['error length-tightened']],
  ['range loosened', edit(['minimum: 0, maximum: 1000', 'minimum: -10, maximum: 2000']), ['info range-loosened', 'info range-loosened']],
  ['values tightened', edit(['validValues: [open, shipped, returned]', 'validValues: [open, shipped]']), ['error values-tightened']],
  ['values loosened', edit(['validValues: [open, shipped, returned]', 'validValues: [open, shipped, returned, lost]']), ['info values-loosened']],
  ['pattern added', edit(['{ name: note, logicalType: string }', '{ name: note, logicalType: string, logicalTypeOptions: { pattern: "^[a-z]+$" } }']), ['error pattern-tightened']],
  ['length tightened', edit(['maxLength: 200', 'maxLength: 100']), ['error length-tightened']],
  ['length loosened', edit(['maxLength: 200', 'maxLength: 400']), ['info length-loosened']],
  ['relationships changed', edit(['to: customers.customer_id', 'to: clients.client_id']), ['warning relationships-changed']],
  ['partitioning changed', edit(['{ name: note, logicalType: string }', '{ name: note, logicalType: string, partitioned: true }']), ['warning partitioning-changed']],
  ['status → deprecated', edit(['status: active', 'status: deprecated']), ['warning status-deprecated']],
  ['description changed', edit(['description: Order total.', 'description: The order total, tax included.']), ['info description-changed']],
  ['optional field added', edit(['      - { name: note, logicalType: string }\n', '      - { name: note, logicalType: string }\n      - { name: channel, logicalType: string }\n']), ['info field-added']],
  ['required field added', edit(['      - { name: note, logicalType: string }\n', '      - { name: note, logicalType: string }\n      - { name: channel, logicalType: string, required: true }\n']), ['error field-added-required']],
];

describe('contract change classification: the ladder', () => {
  for (const [name, text, expected] of CORPUS) {
    it(name, () => {
      const changes = diffContracts(base, parse(text));
      assert.deepEqual(changes.map((c) => `${c.severity} ${c.rule}`).sort(), [...expected].sort());
      for (const c of changes) assert.ok(c.message.length > 10 && c.path.length > 0, JSON.stringify(c));
    });
  }

  it('finds no change between a contract and itself', () => {
    assert.deepEqual(diffContracts(base, parse(BASE)), []);
  });

  it('covers every rule id the classifier can give', () => {
    const covered = new Set(CORPUS.flatMap(([, , e]) => e.map((x) => x.split(' ')[1])));
    for (const rule of ['field-removed', 'field-renamed', 'type-changed', 'type-narrowed', 'became-required', 'new-unique', 'new-primary-key', 'classification-weakened', 'rule-added', 'range-tightened', 'values-tightened', 'pattern-tightened', 'length-tightened', 'primary-key-changed', 'relationships-changed', 'status-deprecated', 'description-changed', 'field-added', 'rule-loosened']) {
      assert.ok(covered.has(rule), rule);
    }
  });
});

describe('version rules', () => {
  const breaking = edit(['      - { name: note, logicalType: string }\n', '']);

  it('a breaking change without a major bump is an error naming the version it needs', () => {
    const head = parse(breaking.replace('version: 1.4.0', 'version: 1.5.0'));
    const f = versionFindings(base, head, diffContracts(base, head));
    assert.deepEqual(f.map((x) => x.rule), ['breaking-without-major']);
    assert.match(f[0]!.message, /1\.4\.0 → 2\.0\.0, not 1\.5\.0/);
  });

  it('a major bump makes the same change acceptable', () => {
    const head = parse(breaking.replace('version: 1.4.0', 'version: 2.0.0'));
    assert.deepEqual(versionFindings(base, head, diffContracts(base, head)), []);
  });

  it('a version going backwards is an error', () => {
    const head = parse(BASE.replace('version: 1.4.0', 'version: 1.3.9'));
    assert.deepEqual(versionFindings(base, head, []).map((x) => x.rule), ['version-backwards']);
  });

  it('orders semantic versions, pre-releases before releases', () => {
    assert.deepEqual(['1.10.0', '1.2.0', '2.0.0-rc.1', '2.0.0', '1.2.0-alpha'].sort(compareSemver), ['1.2.0-alpha', '1.2.0', '1.10.0', '2.0.0-rc.1', '2.0.0']);
  });
});
