/** Templates in SQL become bound parameters; where SQL cannot take one, the template is refused with a reason. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NoetlError } from '../../common/errors.ts';
import { evaluateGuard, renderBound, renderTemplate } from '../../common/expressions.ts';
import { assertSqlTemplates, sqlBinder, sqlTemplateProblems } from '../../common/sql-templates.ts';

const isCode = (code: string) => (e: unknown) => e instanceof NoetlError && e.code === code;

describe('templates in SQL bind as parameters', () => {
  const scope = { workload: { n: 5, name: "it's", days: [1, 2], table: 'orders', evil: "x'; DROP TABLE t; --" } };

  it('turns each output into the next placeholder and keeps its value, typed', () => {
    const binder = sqlBinder();
    const sql = renderBound('SELECT * FROM range({{ workload.n }}) WHERE {{ workload.name }} <> \'\' AND d IN (SELECT unnest({{ workload.days }}))', scope, binder);
    assert.equal(sql, "SELECT * FROM range($1) WHERE $2 <> '' AND d IN (SELECT unnest($3))");
    assert.deepEqual(binder.params, [5, "it's", [1, 2]]);
  });

  it('numbers placeholders after the parameters a step already gives', () => {
    const binder = sqlBinder({ first: 3 });
    assert.equal(renderBound('SELECT $1, $2, {{ workload.n }}', scope, binder), 'SELECT $1, $2, $3');
  });

  it('never puts a hostile value into the text, whatever it holds', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        const binder = sqlBinder();
        const sql = renderBound('SELECT {{ v }} AS x', { v: value }, binder);
        assert.equal(sql, 'SELECT $1 AS x');
        assert.deepEqual(binder.params, [value]);
      }),
    );
  });

  it('admits a plain name through | identifier, quoted, and nothing else', () => {
    const binder = sqlBinder();
    assert.equal(renderBound('SELECT * FROM {{ workload.table | identifier }}', scope, binder), 'SELECT * FROM "orders"');
    assert.deepEqual(binder.params, []);
    assert.equal(renderBound('SELECT * FROM {{ "main.orders" | identifier }}', {}, sqlBinder()), 'SELECT * FROM "main"."orders"');
    assert.throws(() => renderBound('SELECT * FROM {{ workload.evil | identifier }}', scope, sqlBinder()), isCode('E_TEMPLATE'));
    assert.throws(() => renderBound('SELECT * FROM {{ workload.n | identifier }}', scope, sqlBinder()), isCode('E_TEMPLATE'));
  });

  it('passes SQL noetl itself made through as text, and only to the render that made it', () => {
    const binder = sqlBinder();
    const product = (id: string): string => binder.raw(`read_parquet('/store/${id}.parquet')`);
    assert.equal(renderBound("SELECT * FROM {{ product('risk.scores') }}", { product }, binder), "SELECT * FROM read_parquet('/store/risk.scores.parquet')");
    // A caller who guesses another render's token gets a bound value, not text.
    const other = sqlBinder();
    const token = binder.raw('anything');
    assert.equal(renderBound('SELECT {{ v }}', { v: token }, other), 'SELECT $1');
  });

  it('refuses a value the template does not have, rather than binding nothing', () => {
    assert.throws(() => renderBound('SELECT {{ workload.missing }}', scope, sqlBinder()), isCode('E_TEMPLATE'));
    const binder = sqlBinder();
    assert.equal(renderBound('SELECT {{ workload.missing | default(none) }}', scope, binder), 'SELECT $1');
    assert.deepEqual(binder.params, [null]);
  });

  it('binds each value of a loop in the template', () => {
    const binder = sqlBinder();
    assert.equal(renderBound('IN ({% for d in workload.days %}{{ d }}{% if not loop.last %}, {% endif %}{% endfor %})', scope, binder), 'IN ($1, $2)');
    assert.deepEqual(binder.params, [1, 2]);
  });
});

describe('where a template may stand in SQL', () => {
  const refused = (sql: string, reason: RegExp): void => {
    const problems = sqlTemplateProblems(sql);
    assert.equal(problems.length, 1, `${sql}: ${problems.join('; ')}`);
    assert.match(problems[0]!, reason);
  };

  it('accepts values where values go', () => {
    for (const sql of [
      'SELECT {{ a }} AS x, {{ b }}::INTEGER, ({{ c }}) FROM t WHERE x = {{ d }} AND y IN ({{ e }}, {{ f }})',
      "SELECT 'text' || {{ a }} FROM t -- a comment\nWHERE b = {{ b }}",
      'SELECT * FROM {{ t | identifier }} JOIN {{ product("x.y") }} USING (id) ORDER BY {{ c | identifier }}',
      'SELECT * FROM range({{ n }}) t(i) WHERE i % {{ m }} = 0',
      '{% if workload.x %}SELECT {{ a }}{% else %}SELECT 1{% endif %}',
      'SELECT $$ a dollar string $$ AS x, {{ a }} AS y',
    ]) assert.deepEqual(sqlTemplateProblems(sql), [], sql);
  });

  it('refuses a template inside quotes, quoted names or comments', () => {
    refused("SELECT '{{ region }}' AS region", /inside a quoted SQL string/);
    refused("SELECT 'a ''{{ x }}''' AS r", /inside a quoted SQL string/);
    refused('SELECT 1 AS "{{ x }}"', /inside a quoted name/);
    refused('SELECT 1 -- {{ x }}\n', /comment/);
    refused('SELECT 1 /* {{ x }} */', /comment/);
    refused('SELECT $tag$ {{ x }} $tag$', /quoted SQL string/);
  });

  it('refuses a template glued to other SQL text', () => {
    refused('SELECT col_{{ x }} FROM t', /touches other SQL text/);
    refused('SELECT {{ x }}{{ y }} FROM t', /touches other SQL text/);
    refused('SELECT t.{{ x }} FROM t', /touches other SQL text/);
  });

  it('refuses a value where SQL expects a name', () => {
    refused('SELECT * FROM {{ workload.table }}', /after FROM/);
    refused('SELECT a FROM t JOIN {{ x }} USING (a)', /after JOIN/);
    refused('SELECT a AS {{ alias }} FROM t', /after AS/);
    refused('SELECT * FROM t ORDER BY {{ column }}', /after BY/);
    refused('SELECT {{ fn }}(a) FROM t', /function name/);
  });

  it('throws one coded error naming every misplaced template', () => {
    assert.throws(() => assertSqlTemplates("SELECT '{{ a }}', '{{ b }}'", 'step "s"'), (e: unknown) => isCode('E_PLAYBOOK_SQL_TEMPLATE')(e) && /\{\{ a \}\}.*\{\{ b \}\}/.test((e as Error).message));
  });
});

describe('templates run within a budget', () => {
  it('refuses a range longer than the limit, instead of allocating it', () => {
    assert.throws(() => evaluateGuard('{{ range(workload.n) | length > 5 }}', { workload: { n: 150_000_000 } }), isCode('E_TEMPLATE_LIMIT'));
    assert.equal(evaluateGuard('{{ range(workload.n) | length > 5 }}', { workload: { n: 10 } }), true);
  });

  it('stops a template that makes an ever larger string', () => {
    const doubling = "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}";
    assert.throws(() => renderTemplate(doubling, {}), isCode('E_TEMPLATE_LIMIT'));
  });

  it('stops a template that runs too long, and says it was the step\'s time when a deadline is given', () => {
    const slow = '{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}';
    const t0 = Date.now();
    assert.throws(() => renderTemplate(slow, {}, { limits: { maxMs: 100, maxSize: 1_000_000, maxRange: 100_000 } }), isCode('E_TEMPLATE_LIMIT'));
    assert.throws(() => renderTemplate(slow, {}, { deadline: Date.now() + 100 }), isCode('E_STEP_TIMEOUT'));
    assert.ok(Date.now() - t0 < 20_000, 'both stopped long before the loops could end');
  });
});

describe('templates in a URL', () => {
  it('are one percent-encoded component each, so a value cannot change the URL around it', async () => {
    const { renderUrl } = await import('../../common/url-templates.ts');
    const scope = { workload: { id: '../admin?x=1#frag', user: 'a@b', page: 2, api: 'https://api.example.com/v1' } };
    assert.equal(renderUrl('https://api.example.com/items/{{ workload.id }}?p={{ workload.page }}', scope), 'https://api.example.com/items/..%2Fadmin%3Fx%3D1%23frag?p=2');
    // An @ in a host's value does not make a user: the host holds %40, which no URL parser takes.
    assert.equal(renderUrl('https://{{ workload.user }}.example.com/', scope), 'https://a%40b.example.com/');
    assert.throws(() => new URL(renderUrl('https://{{ workload.user }}.example.com/', scope) as string));
    assert.equal(renderUrl('{{ workload.api }}', scope), 'https://api.example.com/v1', 'a whole URL is the value itself');
    assert.equal(renderUrl('{{ workload.api }}/items/{{ workload.id }}', scope), 'https://api.example.com/v1/items/..%2Fadmin%3Fx%3D1%23frag', 'a leading template is the base');
    assert.throws(() => renderUrl('{{ workload.id }}/x', scope), isCode('E_TEMPLATE'), 'a base that is no URL is refused');
    assert.throws(() => renderUrl('https://x/{{ workload.nope }}', scope), isCode('E_TEMPLATE'));
  });
});
