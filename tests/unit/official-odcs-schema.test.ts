/** Every shipped contract is valid against the official ODCS v3.1 JSON Schema in ../shared/spec. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { SHIPPED_DOMAINS, specPath } from '../helpers/workspace.ts';

const schema = JSON.parse(fs.readFileSync(specPath('odcs', 'odcs-json-schema-v3.1.0.json'), 'utf8')) as object;
const ajv = new Ajv2019({ allErrors: true, strict: false });
addFormats.default(ajv);
const validate = ajv.compile(schema);

const contracts = fs.readdirSync(SHIPPED_DOMAINS).flatMap((d) => {
  const dir = path.join(SHIPPED_DOMAINS, d, 'products');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.odcs.yaml')).map((f) => path.join(dir, f)) : [];
});

describe('shipped contracts against the official ODCS v3.1 schema', () => {
  it('finds the contracts', () => assert.ok(contracts.length >= 3));
  for (const file of contracts) {
    it(path.relative(SHIPPED_DOMAINS, file), () => {
      const doc: unknown = parse(fs.readFileSync(file, 'utf8'));
      assert.ok(validate(doc), JSON.stringify(validate.errors, null, 2));
    });
  }
  it('rejects a contract the standard forbids (the check can fail)', () => {
    const doc = parse(fs.readFileSync(contracts[0]!, 'utf8')) as Record<string, unknown>;
    assert.equal(validate({ ...doc, apiVersion: 'v9' }), false);
    assert.equal(validate({ ...doc, schema: [{ name: 'x', properties: [{ name: 'a', logicalType: 'text' }] }] }), false);
  });
});
