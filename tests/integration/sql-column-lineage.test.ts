/** Column lineage from SQL, through DuckDB's own parser. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { sqlLiteral } from '../../contracts/index.ts';
import { columnLineageFromAst, type ColumnLineage, type SqlSources } from '../../lineage/index.ts';

const ds = (name: string) => ({ namespace: 'noetl://t', name });
const SOURCES: SqlSources = {
  tables: {
    orders: { dataset: ds('orders'), columns: ['order_id', 'customer_id', 'amount', 'day'] },
    customers: { dataset: ds('customers'), columns: ['customer_id', 'segment', 'email'] },
  },
  files: { '/data/scores.parquet': { dataset: { namespace: 'noetl://products', name: 'risk.scores' }, columns: ['customer_id', 'score'] } },
};

describe('column lineage from SQL', () => {
  let duck: DuckDBInstance;
  let conn: DuckDBConnection;
  before(async () => {
    duck = await DuckDBInstance.create(':memory:');
    conn = await duck.connect();
  });
  after(() => {
    conn.closeSync();
    duck.closeSync();
  });

  async function lineageOf(sql: string, outputs: string[]): Promise<ColumnLineage | undefined> {
    const r = await conn.runAndReadAll(`SELECT json_serialize_sql(${sqlLiteral(sql)})`);
    return columnLineageFromAst(JSON.parse(String(r.getRows()[0]![0])), SOURCES, outputs);
  }
  const summary = (l: ColumnLineage | undefined, column: string): string[] =>
    (l?.fields[column]?.inputFields ?? []).flatMap((f) => f.transformations.map((t) => `${f.name}.${f.field} ${t.type}/${t.subtype}`)).sort();

  it('tells identity, transformation and aggregation apart', async () => {
    const l = await lineageOf('SELECT customer_id, amount * 1.2 AS gross, sum(amount) AS total FROM orders GROUP BY customer_id, amount', ['customer_id', 'gross', 'total']);
    assert.deepEqual(summary(l, 'customer_id'), ['orders.amount INDIRECT/GROUP_BY', 'orders.customer_id DIRECT/IDENTITY', 'orders.customer_id INDIRECT/GROUP_BY']);
    assert.ok(summary(l, 'gross').includes('orders.amount DIRECT/TRANSFORMATION'));
    assert.ok(summary(l, 'total').includes('orders.amount DIRECT/AGGREGATION'));
  });

  it('follows aliases across joins (ON and USING) and records join, filter and sort columns as indirect', async () => {
    const l = await lineageOf(
      `SELECT o.order_id, c.segment, s.score FROM orders o JOIN customers c USING (customer_id) JOIN read_parquet('/data/scores.parquet') s ON s.customer_id = o.customer_id WHERE o.amount > 10 ORDER BY o.day`,
      ['order_id', 'segment', 'score'],
    );
    assert.deepEqual(summary(l, 'score').filter((x) => x.includes(' DIRECT/')), ['risk.scores.score DIRECT/IDENTITY']);
    assert.deepEqual(l!.dataset.map((f) => `${f.name}.${f.field} ${f.transformations.map((t) => t.subtype).join('+')}`).sort(), [
      'customers.customer_id JOIN',
      'orders.amount FILTER',
      'orders.customer_id JOIN',
      'orders.day SORT',
      'risk.scores.customer_id JOIN',
    ]);
  });

  it('expands * (and table.*) by name', async () => {
    const l = await lineageOf('SELECT c.*, o.amount FROM orders o JOIN customers c ON c.customer_id = o.customer_id', ['customer_id', 'segment', 'email', 'amount']);
    assert.deepEqual(Object.keys(l!.fields).sort(), ['amount', 'customer_id', 'email', 'segment']);
    assert.ok(summary(l, 'email').includes('customers.email DIRECT/IDENTITY'));
  });

  it('answers undefined rather than guess for CTEs, subqueries and unknown tables', async () => {
    assert.equal(await lineageOf('WITH x AS (SELECT * FROM orders) SELECT * FROM x', ['order_id']), undefined);
    assert.equal(await lineageOf('SELECT * FROM (SELECT order_id FROM orders)', ['order_id']), undefined);
    assert.equal(await lineageOf('SELECT * FROM somewhere_else', ['x']), undefined);
  });
});
