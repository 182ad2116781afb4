/**
 * A relationship (`relationships: [{to: table.column}]`) must name a table
 * some contract declares (its schema object, as the gate looks it up) and a
 * column of that table: otherwise `noetl check` says so at the `to`, in the
 * file that wrote it. These passed before.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadDomains } from '../../platform/index.ts';
import { fixtureTree } from '../helpers/workspace.ts';

function contract(domain: string, product: string, table: string, columns: string[], relationships: Record<string, string> = {}): string {
  const lines = [
    'apiVersion: v3.1.0',
    'kind: DataContract',
    `id: ${domain}.${product}`,
    'version: 1.0.0',
    'status: active',
    `domain: ${domain}`,
    `dataProduct: ${product}`,
    `team: { name: ${domain}, members: [{ username: ${domain}@example.com, role: owner }] }`,
    'schema:',
    `  - name: ${table}`,
    '    properties:',
    ...columns.map((c) => `      - { name: ${c}, logicalType: integer${relationships[c] ? `, relationships: [{ type: foreignKey, to: ${relationships[c]} }]` : ''} }`),
  ];
  return `${lines.join('\n')}\n`;
}

/** Line and column (1-based) where `text` first appears in the orders contract written with these relationships. */
function positionOf(orders: Record<string, string>, text: string): { line: number; col: number } {
  const lines = contract('shop', 'orders', 'orders', ['order_id', 'customer_id', 'parent_id'], orders).split('\n');
  const line = lines.findIndex((l) => l.includes(text));
  return { line: line + 1, col: lines[line]!.indexOf(text) + 1 };
}

function check(orders: Record<string, string>): { file: string; line: number; col: number; code: string; message: string }[] {
  const root = fixtureTree({
    'domains/shop/domain.yaml': 'owners: [shop@example.com]\n',
    'domains/shop/products/customers.odcs.yaml': contract('shop', 'customers', 'customers', ['customer_id', 'referrer_id'], { referrer_id: 'customers.customer_id' }),
    'domains/shop/products/orders.odcs.yaml': contract('shop', 'orders', 'orders', ['order_id', 'customer_id', 'parent_id'], orders),
    'domains/crm/domain.yaml': 'owners: [crm@example.com]\n',
    'domains/crm/products/accounts.odcs.yaml': contract('crm', 'accounts', 'accounts', ['account_id']),
  });
  return loadDomains(path.join(root, 'domains'), root).diagnostics.map(({ file, line, col, code, message }) => ({ file, line, col, code, message }));
}

describe('contract relationships', () => {
  it('accepts relationships to a table of the same contract, of another and of another domain', () => {
    assert.deepEqual(check({ customer_id: 'customers.customer_id', parent_id: 'orders.order_id', order_id: 'accounts.account_id' }), []);
  });

  it('reports a table no contract declares, at the `to` value, with the closest name', () => {
    const orders = { customer_id: 'customer.customer_id' };
    assert.deepEqual(positionOf(orders, 'customer.customer_id').line, 13);
    assert.deepEqual(check(orders), [
      {
        file: 'domains/shop/products/orders.odcs.yaml',
        ...positionOf(orders, 'customer.customer_id'),
        code: 'E_CONTRACT_INVALID',
        message: 'property "customer_id" relates to customer.customer_id, but no contract declares a table "customer" (did you mean "customers"?); a relationship names a contract\'s schema object and one of its properties',
      },
    ]);
  });

  it("reports a column the table's contract does not have, listing the ones it has", () => {
    const orders = { parent_id: 'customers.id' };
    assert.deepEqual(positionOf(orders, 'customers.id').line, 14);
    assert.deepEqual(check(orders), [
      {
        file: 'domains/shop/products/orders.odcs.yaml',
        ...positionOf(orders, 'customers.id'),
        code: 'E_CONTRACT_INVALID',
        message: 'property "parent_id" relates to customers.id, but table "customers" (contract shop.customers) has no column "id"; its columns: customer_id, referrer_id',
      },
    ]);
  });

  it('reports a table two contracts declare, since the gate could compare with either', () => {
    const root = fixtureTree({
      'domains/shop/domain.yaml': 'owners: [shop@example.com]\n',
      'domains/shop/products/customers.odcs.yaml': contract('shop', 'customers', 'customers', ['customer_id']),
      'domains/shop/products/orders.odcs.yaml': contract('shop', 'orders', 'orders', ['customer_id'], { customer_id: 'customers.customer_id' }),
      'domains/crm/domain.yaml': 'owners: [crm@example.com]\n',
      'domains/crm/products/customers.odcs.yaml': contract('crm', 'customers', 'customers', ['customer_id']),
    });
    const found = loadDomains(path.join(root, 'domains'), root).diagnostics;
    assert.deepEqual(found.map((d) => [d.file, d.line, d.code]), [['domains/shop/products/orders.odcs.yaml', 12, 'E_CONTRACT_INVALID']]);
    assert.match(found[0]!.message, /table "customers" is declared by 2 contracts \(crm\.customers, shop\.customers\)/);
  });
});
