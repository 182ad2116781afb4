/** `noetl contracts diff | test | export`, and exports that real engines accept. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import pg from 'pg';
import { parseContract, toDdl, toJsonSchema } from '../../contracts/index.ts';
import { runNoetl } from '../helpers/cli.ts';
import { freshPostgres } from '../helpers/postgres.ts';
import { SHIPPED_DOMAINS, workspace } from '../helpers/workspace.ts';

const RISK = path.join(SHIPPED_DOMAINS, 'risk/products/application_scores.odcs.yaml');
const contract = parseContract(fs.readFileSync(RISK, 'utf8'), RISK).contract!;

describe('contract exports', () => {
  it('JSON Schema: compiles, accepts a good row, rejects a bad one', () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(toJsonSchema(contract));
    const good = { application_id: 1, customer_id: 2, income_band: 'low', score: 512.5, decision: 'approve', email: 'a@b.io' };
    assert.ok(validate(good), JSON.stringify(validate.errors));
    assert.ok(validate({ ...good, email: null }), 'optional fields may be null');
    for (const bad of [{ ...good, score: 900 }, { ...good, decision: 'maybe' }, { ...good, email: 'nope' }, { ...good, customer_id: undefined }]) assert.equal(validate(bad), false, JSON.stringify(bad));
  });

  it('DDL: creates the table on PostgreSQL and DuckDB, whose constraints then refuse bad rows', async () => {
    const ddl = toDdl(contract);
    const db = await freshPostgres();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const duck = await DuckDBInstance.create(':memory:');
    const conn = await duck.connect();
    try {
      await client.query('CREATE SCHEMA risk');
      await client.query(ddl);
      await conn.run('CREATE SCHEMA risk');
      await conn.run(ddl);
      const insert = "INSERT INTO risk.application_scores VALUES (1, 2, 'low', 512.5, 'approve', 'a@b.io')";
      await client.query(insert);
      await conn.run(insert);
      for (const bad of ["(2, 2, 'low', 900, 'approve', NULL)", "(3, 2, 'none', 500, 'approve', NULL)", "(1, 2, 'low', 500, 'approve', NULL)", "(4, NULL, 'low', 500, 'approve', NULL)"]) {
        await assert.rejects(client.query(`INSERT INTO risk.application_scores VALUES ${bad}`), bad);
        await assert.rejects(conn.run(`INSERT INTO risk.application_scores VALUES ${bad}`), bad);
      }
    } finally {
      conn.closeSync();
      duck.closeSync();
      await client.end();
      await db.drop();
    }
  });
});

describe('noetl contracts', () => {
  const ws = workspace();
  before(async () => {
    const r = await runNoetl(['run', 'risk/score_applications'], { cwd: ws.root });
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });
  after(() => ws.cleanup());

  it('test: runs every check on the current published data', async () => {
    const r = await runNoetl(['contracts', 'test', 'risk.application_scores'], { cwd: ws.root });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^risk\.application_scores@2\.0\.0 on .* \(20,000 rows\): passed$/m);
    assert.match(r.stdout, /^ {2}ok {6}application_id\.unique: /m);
    assert.match(r.stdout, /^ {2}skipped score\.drift\.1: .*no previous version/m);
    const missing = await runNoetl(['contracts', 'test', 'marketing.campaign_targets'], { cwd: ws.root });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /E_PRODUCT_NOT_PUBLISHED/);
  });

  it('diff: classifies the changes between two files, exit 1 when the version rules fail', async () => {
    const head = path.join(ws.root, 'head.odcs.yaml');
    fs.writeFileSync(head, fs.readFileSync(RISK, 'utf8').replace('maximum: 850', 'maximum: 800'));
    const r = await runNoetl(['contracts', 'diff', RISK, head], { cwd: ws.root });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /error breaking-without-major: 1 breaking change \(range-tightened\)/);
    assert.match(r.stdout, /breaking range-tightened: field "score" maximum 850 → 800/);
    const json = await runNoetl(['contracts', 'diff', RISK, RISK, '--format', 'json'], { cwd: ws.root });
    assert.deepEqual((JSON.parse(json.stdout) as { changes: unknown[] }).changes, []);
  });

  it('export: writes JSON Schema and DDL for a product id', async () => {
    const js = await runNoetl(['contracts', 'export', 'healthcare.patient_cohort'], { cwd: ws.root });
    assert.equal((JSON.parse(js.stdout) as { title: string }).title, 'healthcare.patient_cohort');
    const ddl = await runNoetl(['contracts', 'export', 'healthcare.patient_cohort', '--format', 'ddl'], { cwd: ws.root });
    assert.match(ddl.stdout, /CREATE TABLE "healthcare"\."patient_cohort"/);
    const bad = await runNoetl(['contracts', 'export', 'nope.nope'], { cwd: ws.root });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /no contract at nope\.nope/);
  });
});
