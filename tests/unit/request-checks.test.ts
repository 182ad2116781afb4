/** The pure checks behind the API's 400s: real date-times, JSON depth measured on the text, strings and keys of a body. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isRealDateTime } from '../../common/date-time.ts';
import { bodyValueProblem, depthOverflow } from '../../services/registry/http/json-body.ts';

describe('isRealDateTime', () => {
  it('takes real, storable moments', () => {
    for (const text of ['2026-10-02T03:01:30Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999999999Z', '2024-02-29T12:00:00+05:30', '2000-02-29T00:00:00-15:59', '2016-12-31T23:59:60Z', '2026-01-01 00:00:00z']) {
      assert.ok(isRealDateTime(text), text);
    }
  });

  it('refuses year 0000, impossible months, days, times and offsets, and other shapes', () => {
    for (const text of ['0000-01-01T00:00:00Z', '2026-00-01T00:00:00Z', '2026-13-01T00:00:00Z', '2026-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-01-00T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T00:60:00Z', '2026-01-01T00:00:61Z', '2026-01-01T00:00:00+16:00', '2026-01-01T00:00:00+01:60', '2026-01-01', '2026-01-01T00:00:00', '+002026-01-01T00:00:00Z', ' 2026-01-01T00:00:00Z', '2026-01-01T00:00:00.Z']) {
      assert.ok(!isRealDateTime(text), text);
    }
  });

  it('agrees with the calendar on every day of a leap and a common year', () => {
    for (const year of [2023, 2024]) {
      for (let day = new Date(Date.UTC(year, 0, 1)); day.getUTCFullYear() === year; day = new Date(day.getTime() + 86_400_000)) {
        assert.ok(isRealDateTime(`${day.toISOString().slice(0, 10)}T00:00:00Z`));
      }
    }
  });
});

describe('depthOverflow', () => {
  const depth = (value: unknown): number => (Array.isArray(value) ? 1 + Math.max(0, ...value.map(depth)) : value !== null && typeof value === 'object' ? 1 + Math.max(0, ...Object.values(value).map(depth)) : 0);

  it('measures the nesting of any JSON text as parsing would, brackets inside strings aside', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 10 }), (value, max) => {
        const text = JSON.stringify(value);
        assert.equal(depthOverflow(text, max) === undefined, depth(value) <= max, text);
      }),
      { numRuns: 500 },
    );
  });

  it('stops at the first level past the limit without recursing, however deep the text', () => {
    assert.equal(depthOverflow('['.repeat(1_000_000), 64), 64);
    assert.equal(depthOverflow('"[[[\\"[[[" ', 0), undefined);
  });
});

describe('bodyValueProblem', () => {
  it('names the first string or key that cannot be stored, by JSON pointer', () => {
    assert.deepEqual(bodyValueProblem({ a: [1, { 'b/c': 'x\u0000' }] }), { field: '/a/1/b~1c', message: 'contains a NUL character (\\u0000), which cannot be stored' });
    assert.equal(bodyValueProblem({ ['k\u0000']: 1 })?.field, '/k\u0000');
    assert.equal(bodyValueProblem(JSON.parse('{"__proto__": {"x": 1}}'))?.field, '/__proto__');
    assert.equal(bodyValueProblem({ s: '\ud800' })?.field, '/s');
    assert.equal(bodyValueProblem({ s: 'x'.repeat(65_537) })?.field, '/s');
    assert.equal(bodyValueProblem({ fine: ['😀', 'x'.repeat(65_536), { ok: null }] }), undefined);
  });
});
