import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateGuard, evaluateValue, renderDeep, renderTemplate } from '../../common/expressions.ts';
import { guardReferences, templateReferences } from '../../common/template-references.ts';
import { NoetlError } from '../../common/errors.ts';

describe('templates and guards', () => {
  const scope = { workload: { n: 3, name: 'risk', flag: true }, results: { gen: { kind: 'table', rows: 12 } } };

  it('renders Jinja templates over the scope and leaves plain strings alone', () => {
    assert.equal(renderTemplate('n={{ workload.n + 1 }} {{ workload.name | upper }}', scope), 'n=4 RISK');
    assert.equal(renderTemplate('no template here', scope), 'no template here');
    assert.deepEqual(renderDeep({ a: ['{{ workload.n }}'], b: 2 }, scope), { a: ['3'], b: 2 });
  });

  it('evaluates guards to booleans, with or without braces', () => {
    assert.equal(evaluateGuard('{{ results.gen.rows > 10 }}', scope), true);
    assert.equal(evaluateGuard('workload.flag and workload.n == 4', scope), false);
    assert.equal(evaluateGuard(true, scope), true);
  });

  it('refuses a guard that is not boolean', () => {
    assert.throws(() => evaluateGuard('{{ workload.n }}', scope), (e: unknown) => e instanceof NoetlError && e.code === 'E_GUARD_NOT_BOOLEAN');
  });

  it('reports a syntax error as E_TEMPLATE', () => {
    assert.throws(() => renderTemplate('{{ 1 + }}', scope), (e: unknown) => e instanceof NoetlError && e.code === 'E_TEMPLATE');
  });

  it('gives templates no way to the process, globals or prototypes', () => {
    assert.equal(renderTemplate("{{ ''.constructor }}", scope), '');
    assert.equal(renderTemplate('{{ process }}', scope), '');
    assert.equal(renderTemplate('{{ workload.__proto__ }}', scope), '');
    assert.equal(renderTemplate('{{ workload.constructor }}', scope), '');
    // The classic escape, Function('return process')(), finds no function to call.
    assert.throws(
      () => renderTemplate("{{ workload.constructor.constructor('return process')() }}", scope),
      (e: unknown) => e instanceof NoetlError && e.code === 'E_TEMPLATE',
    );
  });

  it('evaluates a value: one expression keeps its type, other strings render, lists and objects member by member', () => {
    assert.deepEqual(evaluateValue({ n: '{{ workload.n + 1 }}', l: '{{ [workload.n, 2] }}', s: 'n={{ workload.n }}', keep: 3 }, scope), { n: 4, l: [3, 2], s: 'n=3', keep: 3 });
    assert.deepEqual(evaluateValue(['{{ workload.flag }}', '{{ workload.n }} and {{ workload.n }}'], scope), [true, '3 and 3']);
  });
});

describe('template references', () => {
  it('names the variables a template reads, by root and attribute path, without running it', () => {
    const refs = templateReferences("{{ workload.a.b }} {{ results['load'].rows }} {{ vars.page + 1 }} {{ product('d.p') }} {{ x[0].y }}");
    assert.deepEqual(refs, [
      { root: 'workload', path: ['a', 'b'] },
      { root: 'results', path: ['load', 'rows'] },
      { root: 'vars', path: ['page'] },
      { root: 'product', path: [] },
      { root: 'x', path: [] },
    ]);
  });

  it('leaves out what the template binds itself, and operators', () => {
    const refs = templateReferences('{% for r in results.each.items %}{{ r.uri }}{{ loop.index }}{% endfor %}{% set z = 1 %}{{ z }}{% macro m(a) %}{{ a }}{% endmacro %}');
    assert.deepEqual(refs, [{ root: 'results', path: ['each', 'items'] }]);
    assert.deepEqual(guardReferences("error.code == 'E_X' and not attempt > 2"), [{ root: 'error', path: ['code'] }, { root: 'attempt', path: [] }]);
  });

  it('a template that does not parse is E_TEMPLATE', () => {
    assert.throws(() => templateReferences('{{ workload. }}'), (e: unknown) => e instanceof NoetlError && e.code === 'E_TEMPLATE');
  });
});
