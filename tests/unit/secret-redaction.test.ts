/**
 * Secret redaction: every form a secret travels in is found and replaced, for
 * random secrets in random text (fast-check), and text without a secret comes
 * out as it went in.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MIN_SECRET_LENGTH, secretPieces, secretRedactor } from '../../common/secret-redaction.ts';

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const base64Url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');
const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

/** The characters of base64(prefix + secret + suffix) that the secret's bytes alone decide. */
function embeddedCore(prefix: Uint8Array, secret: string, encode: (bytes: Uint8Array) => string): string {
  const bytes = utf8(secret);
  const start = Math.ceil((8 * prefix.length) / 6);
  const end = Math.floor((8 * (prefix.length + bytes.length)) / 6);
  return encode(Buffer.concat([prefix, bytes])).slice(start, end);
}

/** Each way a secret is written that redaction must catch, by name. */
const ENCODINGS: Record<string, (secret: string) => string> = {
  raw: (s) => s,
  encodeURIComponent: (s) => encodeURIComponent(s),
  'form encoding': (s) => new URLSearchParams({ q: s }).toString().slice(2),
  'lower-case percent-encoding': (s) => encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
  'JSON string': (s) => JSON.stringify(s).slice(1, -1),
  'JSON string, ASCII only': (s) => JSON.stringify(s).slice(1, -1).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
  'JSON string in a JSON string': (s) => JSON.stringify(JSON.stringify({ s })).slice(1, -1),
  base64: (s) => base64(utf8(s)),
  'base64 without padding': (s) => base64(utf8(s)).replace(/=+$/, ''),
  'URL-safe base64': (s) => base64Url(utf8(s)),
  hex: (s) => utf8(s).toString('hex'),
  'upper-case hex': (s) => utf8(s).toString('hex').toUpperCase(),
};

// Secrets mixing the characters encodings treat specially with any others, at least 6 characters long so every
// base64 alignment has a form.
const SPECIAL = [' ', '"', '\\', '/', '+', '%', '&', '=', '?', '#', '@', ':', '\n', '<', 'é', '€', '😀'];
const secretArbitrary = fc
  .string({ unit: fc.oneof(fc.constantFrom(...SPECIAL), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })), minLength: 6, maxLength: 30 })
  .filter((s) => s.trim().length >= 6 && !s.includes('*'));
const textArbitrary = fc.string({ unit: 'grapheme', maxLength: 60 });

describe('secret redaction', () => {
  it('leaves no encoded form of a random secret in random text', () => {
    fc.assert(
      fc.property(secretArbitrary, textArbitrary, textArbitrary, (secret, before, after) => {
        const redactor = secretRedactor([secret]);
        for (const [encoding, encode] of Object.entries(ENCODINGS)) {
          const encoded = encode(secret);
          const out = redactor.text(`${before}${encoded}${after}`);
          assert.ok(!out.includes(encoded), `${encoding} survived: ${JSON.stringify(out)}`);
          assert.ok(out.includes('***'));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('finds a secret inside a longer base64 string at each of the three byte alignments (Basic user:password)', () => {
    fc.assert(
      fc.property(secretArbitrary, fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), fc.boolean(), (secret, prefix, suffix, urlSafe) => {
        const encode = urlSafe ? base64Url : base64;
        const text = `Authorization: Basic ${encode(Buffer.concat([prefix, utf8(secret), suffix]))}`;
        const out = secretRedactor([secret]).text(text);
        const core = embeddedCore(prefix, secret, encode);
        assert.ok(!out.includes(core), `alignment ${prefix.length % 3}: ${core} survived in ${out}`);
      }),
      { numRuns: 400 },
    );
  });

  it('covers the whole embedded secret: what is left around *** carries at most the bits of the neighbouring bytes', () => {
    const secret = 'correct horse battery';
    for (const prefix of ['', 'u', 'us', 'use', 'user:']) {
      const encoded = base64(utf8(`${prefix}${secret}!`));
      const out = secretRedactor([secret]).text(encoded);
      const [left, right] = out.split('***');
      assert.ok(left!.length <= Math.floor((8 * prefix.length) / 6), `${prefix}: ${out}`);
      assert.ok(right!.length <= 4, `${prefix}: ${out}`);
    }
  });

  it('leaves text without a secret unchanged (secrets of capitals and digits, text without any)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[A-Z0-9]{6,30}$/), { minLength: 1, maxLength: 10 }),
        fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz .,;:!?-_()\'"\n\t'.split('')), maxLength: 300 }),
        (secrets, text) => assert.equal(secretRedactor(secrets).text(text), text),
      ),
      { numRuns: 300 },
    );
  });

  it('leaves ordinary text, JSON, UUIDs, checksums and base64 blobs alone with 50 secrets', () => {
    const secrets = Array.from({ length: 50 }, () => randomBytes(18).toString('base64url'));
    const redactor = secretRedactor(secrets);
    const samples = [
      'The quick brown fox jumps over the lazy dog; step "load" failed after 3 tries: connection refused (127.0.0.1:5432).',
      JSON.stringify({ id: '0b4f6c1e-3a5d-4c7e-9f21-6e8d2a1b3c4d', sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', rows: 20000 }),
      randomBytes(3000).toString('base64'),
      randomBytes(2000).toString('hex'),
      'SELECT application_id, avg(score) FROM scores WHERE day >= $1 GROUP BY 1 ORDER BY 2 DESC LIMIT 100',
    ];
    for (const text of samples) assert.equal(redactor.text(text), text);
  });

  it('redacts the password of a connection URL alone, raw and decoded, and of a user:password credential', () => {
    const redactor = secretRedactor(['postgres://app:p%40ss%2Fw0rd@db.internal:5432/sales', 'nats://bus:natsPa55@nats:4222', 'svc:basicPa55word']);
    const leaks = [
      'password authentication failed: p@ss/w0rd',
      'connecting with p%40ss%2Fw0rd',
      'nats: authorization violation for natsPa55',
      `Basic ${base64(utf8('other:basicPa55word'))}`,
      'the password is basicPa55word',
      `token ${base64(utf8('natsPa55'))} in a header`,
    ];
    for (const text of leaks) {
      const out = redactor.text(text);
      for (const piece of ['p@ss/w0rd', 'p%40ss%2Fw0rd', 'natsPa55', 'basicPa55word']) assert.ok(!out.includes(piece), `${piece} in ${out}`);
      assert.ok(out.includes('***'), out);
    }
    // The parts that are not secret stay readable.
    assert.equal(redactor.text('connect to db.internal:5432 as app'), 'connect to db.internal:5432 as app');
  });

  it('knows the pieces of URLs, keyword connection strings and basic credentials', () => {
    assert.deepEqual(secretPieces('postgres://app:s3cr%3At@h/db'), ['postgres://app:s3cr%3At@h/db', 's3cr%3At', 's3cr:t']);
    assert.deepEqual(secretPieces('https://ghp_t0kenvalue1234567890@github.com/x'), ['https://ghp_t0kenvalue1234567890@github.com/x', 'ghp_t0kenvalue1234567890']);
    assert.deepEqual(secretPieces('postgres://u:pa/ss@h/db'), ['postgres://u:pa/ss@h/db', 'pa/ss'], 'a password the URL parser cannot read');
    assert.deepEqual(secretPieces('postgres://postgres@127.0.0.1:5432/inventory'), ['postgres://postgres@127.0.0.1:5432/inventory'], 'a user name is no secret');
    assert.deepEqual(secretPieces('clickhouse://h:8123/db?user=u&password=chPassw0rd'), ['clickhouse://h:8123/db?user=u&password=chPassw0rd', 'chPassw0rd']);
    assert.deepEqual(secretPieces("host=db user=app password='kw pass' dbname=x"), ["host=db user=app password='kw pass' dbname=x", 'kw pass']);
    assert.deepEqual(secretPieces('user:pw'), ['user:pw'], 'a password shorter than the minimum is no piece of its own');
    assert.deepEqual(secretPieces('abc'), [], `shorter than ${MIN_SECRET_LENGTH} characters: nothing`);
  });

  it('redacts many secrets at once, overlapping ones wholly', () => {
    const redactor = secretRedactor(['pass', 'password123', 'word123456']);
    assert.equal(redactor.text('a password1234567 b'), 'a ***7 b');
    assert.equal(redactor.text('pass and passport'), '*** and ***port');
  });

  it('redacts JSON-like values: strings, keys and numbers, deeply', () => {
    const redactor = secretRedactor(['tok3n-value', '12345678']);
    const value = { answer: { echoed: 'Bearer tok3n-value', list: [1, 'x tok3n-value y', 12345678], 'tok3n-value': true }, n: 5 };
    assert.deepEqual(redactor.value(value), { answer: { echoed: 'Bearer ***', list: [1, 'x *** y', '***'], '***': true }, n: 5 });
    assert.deepEqual(value.answer.list[1], 'x tok3n-value y', 'the input is not changed');
  });

  it('ends on secrets made of the replacement itself', () => {
    assert.equal(secretRedactor(['****']).text('a ******** b'), 'a *** b');
  });

  it('does nothing without secrets', () => {
    const redactor = secretRedactor([]);
    assert.equal(redactor.empty, true);
    const value = { a: 1 };
    assert.equal(redactor.value(value), value);
    assert.equal(secretRedactor(['abc']).empty, true, 'too short to redact');
  });
});
