/**
 * Secrets stay put: a real worker over the in-process bus runs steps whose
 * answers and output echo the credentials they were given (a loopback API that
 * echoes the bearer token and the basic credential, raw, base64 and
 * URL-encoded, in a JSON answer and in a 401's body; a python script that
 * prints a token base64-encoded and a connection URL's password). The canaries
 * must appear, in no form, in any event the database holds (`events`,
 * `lineage_events`), any API answer, or any log line.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { openRuntime, type Runtime } from '../../cli/runtime.ts';
import { createLogger, loadConfig } from '../../platform/index.ts';
import { buildApp } from '../../services/registry/index.ts';
import { fixtureTree } from '../helpers/workspace.ts';

const id = randomUUID().replace(/-/g, '');
const TOKEN = `tok-${id.slice(0, 12)}/+&=?`;
const BASIC_PASSWORD = `pw-${id.slice(12, 24)}:/@é`;
const PG_PASSWORD = `pg-${id.slice(0, 10)}@/x`;
const SECRETS = { token: TOKEN, basic: `svc:${BASIC_PASSWORD}`, pgPassword: PG_PASSWORD };

/** Every way a canary could be written: raw, URL-encoded, JSON-escaped, hex, base64 whole and inside a longer base64 string. */
function leakForms(secret: string): string[] {
  const bytes = Buffer.from(secret);
  const forms = [secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2), JSON.stringify(secret).slice(1, -1), bytes.toString('hex')];
  for (let alignment = 0; alignment < 3; alignment++) {
    const encoded = Buffer.concat([Buffer.alloc(alignment), bytes]);
    const core = [Math.ceil((8 * alignment) / 6), Math.floor((8 * (alignment + bytes.length)) / 6)] as const;
    forms.push(encoded.toString('base64').slice(...core), encoded.toString('base64url').slice(...core));
  }
  return forms;
}

const domain = {
  'vault/domain.yaml': 'description: Steps that are handed credentials\nowners: [vault@example.com]\n',
  'vault/playbooks/leaky.yaml': `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: leaky, description: "Every step's answer or output echoes a credential." }
workload: { base: "http://127.0.0.1:1" }
keychain:
  - { name: api_token, kind: bearer }
  - { name: basic, kind: basic }
  - { name: warehouse, kind: postgres }
workflow:
  - step: start
    next: [{ step: bearer_echo }, { step: basic_echo }, { step: encoded_echo }, { step: printed }]
  - step: bearer_echo
    tool: { kind: http, url: "{{ workload.base }}/echo-headers", auth: { bearer: api_token } }
  - step: basic_echo
    tool: { kind: http, url: "{{ workload.base }}/echo-headers", auth: { basic: basic } }
  - step: encoded_echo
    tool: { kind: http, url: "{{ workload.base }}/echo-encoded", auth: { bearer: api_token } }
  - step: printed
    tool:
      kind: python
      credentials: [api_token, warehouse]
      script: |
        import base64, sys, urllib.parse, noetl
        token = noetl.credential('api_token')
        password = urllib.parse.urlparse(noetl.credential('warehouse')).password
        print('token', base64.b64encode(token.encode()).decode(), urllib.parse.quote(token, safe=''))
        print('password', password, urllib.parse.unquote(password), file=sys.stderr)
        noetl.result({'hex': token.encode().hex(), 'password': urllib.parse.unquote(password)})
`,
  'vault/playbooks/tabled.yaml': `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: tabled, description: "Steps whose tables hold the credentials they were handed." }
workload: { base: "http://127.0.0.1:1" }
keychain:
  - { name: api_token, kind: bearer }
  - { name: warehouse, kind: postgres }
workflow:
  - step: start
    next: [{ step: many }, { step: rows }]
  - step: many
    tool: { kind: http, url: "{{ workload.base }}/echo-many", auth: { bearer: api_token }, inline_limit: 100 }
  - step: rows
    tool:
      kind: python
      credentials: [api_token, warehouse]
      script: |
        import base64, urllib.parse, noetl
        token = noetl.credential('api_token')
        password = urllib.parse.urlparse(noetl.credential('warehouse')).password
        noetl.write_rows([
          {'n': 1, 'raw': 'token ' + token, 'b64': base64.b64encode(('x:' + token).encode()).decode(), 'other': 'plain text'},
          {'n': 2, 'raw': 'password ' + urllib.parse.unquote(password), 'b64': token.encode().hex(), 'other': 'more text'},
        ])
`,
  'vault/playbooks/nested.yaml': `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: nested, description: "A credential inside a list column cannot be rewritten as text." }
keychain:
  - { name: api_token, kind: bearer }
workflow:
  - step: listed
    tool:
      kind: python
      credentials: [api_token]
      script: |
        import noetl
        noetl.write_rows([{'n': 1, 'tags': ['a', noetl.credential('api_token')]}])
`,
  'vault/playbooks/rejected.yaml': `apiVersion: noetl.io/v2
kind: Playbook
metadata: { name: rejected, description: "An API refuses the token and quotes it in its error." }
workload: { base: "http://127.0.0.1:1" }
keychain:
  - { name: api_token, kind: bearer }
workflow:
  - step: call
    tool: { kind: http, url: "{{ workload.base }}/reject", auth: { bearer: api_token }, retries: 0 }
`,
};

describe('secrets stay put: no canary in events, lineage, tables, API answers or logs', () => {
  let api: http.Server;
  let rt: Runtime;
  let root: string;
  let base: string;
  const lines: string[] = [];
  const executions: string[] = [];
  /** The contents of the tables steps wrote, as text. */
  const tables: string[] = [];

  before(async () => {
    api = http.createServer((req, res) => {
      const authorization = req.headers.authorization ?? '';
      const token = authorization.replace(/^Bearer /, '');
      const json = (status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const b64 = (text: string): string => Buffer.from(text).toString('base64');
      if (req.url === '/echo-headers') return json(200, { authorization, headers: req.headers });
      if (req.url === '/echo-encoded') return json(200, { b64: b64(token), url: encodeURIComponent(token), hex: Buffer.from(token).toString('hex'), inBasic: `Basic ${b64(`x:${token}`)}`, json: JSON.stringify({ token }) });
      if (req.url === '/echo-many') return json(200, Array.from({ length: 50 }, (_, i) => ({ i, authorization, b64: b64(token) })));
      if (req.url === '/reject') return json(401, { error: 'token refused', got: authorization, b64: b64(token) });
      json(404, {});
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    const port = (api.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
    root = fixtureTree(domain);
    const config = loadConfig({
      NOETL_HOME: `${root}/.noetl`,
      NOETL_DOMAINS_DIR: root,
      NOETL_HTTP_ALLOW: `127.0.0.1:${port}`,
      NOETL_SECRET_VAULT__API_TOKEN: TOKEN,
      NOETL_SECRET_VAULT__BASIC: SECRETS.basic,
      NOETL_SECRET_VAULT__WAREHOUSE: `postgres://app:${encodeURIComponent(PG_PASSWORD)}@127.0.0.1:1/db`,
    });
    const log = createLogger({ level: 'debug', write: (line) => lines.push(line), secrets: new Set(Object.values(config.secrets)) });
    rt = await openRuntime(config, { log });
  });

  after(async () => {
    await rt?.close();
    api?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('a completed run: each step still answers, with the credentials replaced', async () => {
    const execution = await rt.supervisor.startExecution('vault/leaky', { base });
    executions.push(execution);
    const state = await rt.supervisor.waitFor(execution);
    assert.equal(state.status, 'completed', JSON.stringify(state.error));
    assert.deepEqual(state.results.bearer_echo, { kind: 'value', value: { authorization: 'Bearer ***', headers: (state.results.bearer_echo as { value: { headers: unknown } }).value.headers } });
    assert.match(JSON.stringify(state.results.basic_echo), /"authorization":"Basic \*\*\*/);
    const encoded = (state.results.encoded_echo as { value: Record<string, string> }).value;
    assert.deepEqual(Object.keys(encoded).sort(), ['b64', 'hex', 'inBasic', 'json', 'url']);
    for (const [key, text] of Object.entries(encoded)) assert.match(text, /\*\*\*/, key);
    assert.deepEqual(state.results.printed, { kind: 'value', value: { hex: '***', password: '***' } });
  });

  it('a failed run: the error that quotes the token is redacted, in the step, the execution and its FAIL lineage event', async () => {
    const execution = await rt.supervisor.startExecution('vault/rejected', { base });
    executions.push(execution);
    const state = await rt.supervisor.waitFor(execution);
    assert.equal(state.status, 'failed');
    assert.equal(state.error!.code, 'E_HTTP_STATUS');
    assert.match(state.error!.message, /answered 401: .*token refused.*Bearer \*\*\*/);
    const fail = await rt.database.db.selectFrom('lineage_events').select('event').where('event_type', '=', 'FAIL').execute();
    assert.ok(fail.some((row) => /Bearer \*\*\*/.test(JSON.stringify(row.event))), 'the error message facet is there, redacted');
  });

  it("tables written by steps that were handed credentials hold none of them (text columns rewritten; a nested one fails the step)", async () => {
    const execution = await rt.supervisor.startExecution('vault/tabled', { base });
    executions.push(execution);
    const state = await rt.supervisor.waitFor(execution);
    assert.equal(state.status, 'completed', JSON.stringify(state.error));
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:');
    try {
      const conn = await db.connect();
      const read = async (step: string): Promise<Record<string, unknown>[]> => {
        const ref = state.results[step];
        assert.ok(ref?.kind === 'table', step);
        return (await conn.runAndReadAll(`SELECT * FROM read_parquet('${new URL(ref.uri).pathname}')`)).getRowObjectsJson();
      };
      const many = await read('many');
      assert.equal(many.length, 50);
      assert.equal(many[0]!.authorization, 'Bearer ***');
      const rows = await read('rows');
      assert.deepEqual(rows.map((r) => r.other), ['plain text', 'more text'], 'what holds no credential is untouched');
      assert.ok(rows.every((r) => String(r.raw).includes('***')));
      tables.push(JSON.stringify(many), JSON.stringify(rows));
      conn.closeSync();
    } finally {
      db.closeSync();
    }
    const nested = await rt.supervisor.waitFor(await rt.supervisor.startExecution('vault/nested'));
    assert.equal(nested.status, 'failed');
    assert.equal(nested.error?.code, 'E_SECRET_IN_OUTPUT');
    assert.match(nested.error.message, /column "tags"/);
  });

  it('no form of any canary is in the event log, the lineage events, the API or the logs', async () => {
    const db = rt.database.db;
    const events = await db.selectFrom('events').select(['type', 'payload']).where('execution_id', 'in', executions).execute();
    const lineage = await db.selectFrom('lineage_events').select('event').execute();
    assert.ok(events.some((e) => e.type === 'step.completed') && lineage.length > 10, 'there is something to look at');
    const app = await buildApp({ db, log: rt.log, mode: 'embedded' });
    const answers: string[] = [];
    try {
      for (const url of ['/api/v1/executions', ...executions.map((e) => `/api/v1/executions/${e}`)]) {
        const res = await app.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 200, url);
        answers.push(res.body);
      }
    } finally {
      await app.close();
    }
    assert.match(answers.join('\n'), /\*\*\*/, 'the API shows the redacted results');
    assert.ok(lines.some((line) => /step failed/.test(line)), 'the logs were captured');
    const places = { events: JSON.stringify(events), lineage_events: JSON.stringify(lineage), api: answers.join('\n'), logs: lines.join('\n'), tables: tables.join('\n') };
    for (const [name, secret] of Object.entries(SECRETS)) {
      for (const form of leakForms(secret)) {
        for (const [place, text] of Object.entries(places)) assert.ok(!text.includes(form), `${name} as ${JSON.stringify(form)} is in ${place}`);
      }
    }
  });
});
