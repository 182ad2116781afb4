/** ClickHouse SQL parameters bound on the client: literals, and placeholders left alone where they are not placeholders. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bindClickHouse } from '../../services/worker/tools/clickhouse-params.ts';

const bind = (sql: string, ...values: unknown[]): string => bindClickHouse(sql, values, 's');

describe('clickhouse params', () => {
  it('quotes strings with backslash escapes and writes numbers, booleans, null and lists as ClickHouse literals', () => {
    assert.equal(bind('SELECT $1, $2, $3, $4, $5', "it's \\ here", 42, true, null, ['a', 1]), "SELECT 'it\\'s \\\\ here', 42, 1, NULL, ['a', 1]");
  });

  it('leaves $n alone inside strings, quoted identifiers and comments, and tells $1 from $10', () => {
    const values = Array.from({ length: 10 }, (_, i) => i + 1);
    assert.equal(bind("SELECT $10, '$1', 'it\\'s $2', 'a''$3', \"$4\", `$5` -- $6\n, $1 /* $7 */", ...values), "SELECT 10, '$1', 'it\\'s $2', 'a''$3', \"$4\", `$5` -- $6\n, 1 /* $7 */");
  });

  it('refuses a placeholder without a value, and values that are not literals', () => {
    assert.throws(() => bind('SELECT $2', 1), /uses \$2 but params has 1 value/);
    assert.throws(() => bind('SELECT $0', 1), /uses \$0/);
    assert.throws(() => bind('SELECT $1', { a: 1 }), (e: unknown) => (e as { code?: string }).code === 'E_PLAYBOOK_INVALID');
    assert.throws(() => bind('SELECT $1', Number.NaN), /not a finite number/);
  });
});
