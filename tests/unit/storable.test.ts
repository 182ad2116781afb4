/** Events are made storable: PostgreSQL takes no NUL and no lone surrogate, anywhere in a value or a key. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { storable, storableText } from '../../services/orchestrator/supervisor/storable.ts';

describe('storable events', () => {
  it('replaces NUL and lone surrogates with U+FFFD, in values and keys, and keeps pairs', () => {
    assert.equal(storableText('a\u0000b'), 'a\uFFFDb');
    assert.equal(storableText('x\uD800y\uDC00z'), 'x\uFFFDy\uFFFDz');
    assert.equal(storableText('emoji \uD83D\uDE00 stays'), 'emoji \uD83D\uDE00 stays');
    assert.deepEqual(storable({ 'k\u0000': ['v\u0000', 1, null, { n: 'ok' }] }), { 'k\uFFFD': ['v\uFFFD', 1, null, { n: 'ok' }] });
  });

  it('returns the very value when nothing needs replacing (no copy on the hot path)', () => {
    const event = { type: 'step.completed', result: { kind: 'value', value: [1, 'two', { three: 3 }] } };
    assert.equal(storable(event), event);
  });

  it('gives text that JSON can carry into PostgreSQL, whatever it was', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const out = storableText(text);
        assert.ok(!out.includes('\u0000'));
        assert.equal(out, Buffer.from(out, 'utf8').toString('utf8'), 'well-formed UTF-16');
      }),
    );
  });
});
