/**
 * Every error the registry answers is `{error: {code, message}}` with a code of
 * the catalogue: unknown routes, wrong methods, bodies too large or of another
 * type, URLs and headers too long (over a real socket: Node's parser decides
 * those), NUL bytes, impossible dates, deep nesting, long strings and unknown
 * fields, each naming the field. Against the real embedded runtime.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { ERROR_CATALOGUE } from '../../common/errors.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { openRegistry, type TestRegistry } from '../helpers/registry.ts';

const WAIT_DOMAIN = {
  'waits/domain.yaml': 'description: Test domain whose playbook waits\nowners: [waits@example.com]\n',
  'waits/playbooks/wait.yaml': [
    'apiVersion: noetl.io/v2',
    'kind: Playbook',
    'metadata: { name: wait, description: Waits until cancelled }',
    'workflow:',
    '  - step: wait',
    '    tool: { kind: noop, sleep_ms: 60000 }',
    '',
  ].join('\n'),
};

interface ErrorAnswer {
  error: { code: string; message: string; details?: { field?: string } };
}

describe('HTTP errors are coded', () => {
  let registry: TestRegistry;
  let port: number;

  const send = (options: InjectOptions): Promise<LightMyRequestResponse> => registry.app.inject(options);
  /** The answer has the status, a catalogue code, a message, and names `field` when given. */
  const expectError = (res: LightMyRequestResponse, status: number, code: string, field?: string): ErrorAnswer['error'] => {
    assert.equal(res.statusCode, status, res.body);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const { error } = res.json<ErrorAnswer>();
    assert.equal(error.code, code, error.message);
    assert.ok(error.code in ERROR_CATALOGUE);
    assert.ok(error.message.length > 0);
    if (field !== undefined) {
      assert.equal(error.details?.field, field, error.message);
      assert.ok(error.message.includes(field), `the message names ${field}: ${error.message}`);
    }
    return error;
  };

  before(async () => {
    registry = await openRegistry('embedded', WAIT_DOMAIN);
    await registry.app.listen({ host: '127.0.0.1', port: 0 });
    port = (registry.app.server.address() as AddressInfo).port;
  });
  after(async () => {
    await registry?.close();
  });

  it('answers an unknown route with 404 E_ROUTE_NOT_FOUND', async () => {
    expectError(await send({ method: 'GET', url: '/api/v2/products' }), 404, 'E_ROUTE_NOT_FOUND');
    expectError(await send({ method: 'POST', url: '/nothing/here', payload: {} }), 404, 'E_ROUTE_NOT_FOUND');
  });

  it('answers a known path with a method it does not take with 405 and an Allow header', async () => {
    const products = await send({ method: 'DELETE', url: '/api/v1/products' });
    expectError(products, 405, 'E_METHOD_NOT_ALLOWED');
    assert.equal(products.headers.allow, 'GET, HEAD');
    const cancel = await send({ method: 'GET', url: '/api/v1/executions/some-id/cancel' });
    expectError(cancel, 405, 'E_METHOD_NOT_ALLOWED');
    assert.equal(cancel.headers.allow, 'POST');
    const executions = await send({ method: 'PUT', url: '/executions', payload: {} });
    assert.equal(executions.headers.allow, 'GET, HEAD, POST');
    expectError(await send({ method: 'PROPFIND', url: '/health' }), 405, 'E_METHOD_NOT_ALLOWED');
  });

  it('answers a body over 1 MiB with 413, and a batch over 16 MiB', async () => {
    const workload = { text: 'x'.repeat(60_000) };
    const big = { playbook: 'risk/score_applications', workload: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, workload])) };
    expectError(await send({ method: 'POST', url: '/api/v1/executions', payload: big }), 413, 'E_REQUEST_TOO_LARGE');
    const batch = `${JSON.stringify({ pad: 'x'.repeat(17 * 1024 * 1024) })}\n`;
    const res = await send({ method: 'POST', url: '/api/v1/lineage/batch', payload: batch, headers: { 'content-type': 'application/x-ndjson' } });
    expectError(res, 413, 'E_REQUEST_TOO_LARGE');
  });

  it('answers a body that is not JSON with 415 (NDJSON only where a batch is taken)', async () => {
    const text = await send({ method: 'POST', url: '/api/v1/executions', payload: 'playbook=risk/score_applications', headers: { 'content-type': 'text/plain' } });
    expectError(text, 415, 'E_UNSUPPORTED_MEDIA_TYPE');
    const form = await send({ method: 'POST', url: '/api/v1/lineage', payload: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expectError(form, 415, 'E_UNSUPPORTED_MEDIA_TYPE');
    const ndjson = await send({ method: 'POST', url: '/api/v1/lineage', payload: '{}\n', headers: { 'content-type': 'application/x-ndjson' } });
    expectError(ndjson, 415, 'E_UNSUPPORTED_MEDIA_TYPE');
  });

  it('over a real socket: 414 for a URL over 8 KiB, 431 for headers over 16 KiB, 400 for what is not HTTP, 405 for CONNECT', async () => {
    const longUrl = await rawRequest(port, `GET /api/v1/products?domain=${'a'.repeat(9_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.equal(longUrl.status, 414, longUrl.body);
    assert.equal((JSON.parse(longUrl.body) as ErrorAnswer).error.code, 'E_URL_TOO_LONG');
    const longPath = await rawRequest(port, `GET /api/v1/products/${'p'.repeat(9_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.equal(longPath.status, 414, longPath.body);
    assert.equal((JSON.parse(longPath.body) as ErrorAnswer).error.code, 'E_URL_TOO_LONG');
    const bigHeader = await rawRequest(port, `GET /api/v1/products HTTP/1.1\r\nHost: x\r\nX-Filler: ${'h'.repeat(20_000)}\r\n\r\n`);
    assert.equal(bigHeader.status, 431);
    assert.match(bigHeader.headers['content-type'] ?? '', /^application\/json/);
    assert.equal((JSON.parse(bigHeader.body) as ErrorAnswer).error.code, 'E_HEADERS_TOO_LARGE');
    const hugeUrl = await rawRequest(port, `GET /api/v1/products?q=${'a'.repeat(30_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.equal(hugeUrl.status, 431, 'a URL past the header limit is refused by the parser, coded');
    for (const garbage of ['HELLO\r\n\r\n', 'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 'GET /a\u0000b HTTP/1.1\r\nHost: x\r\n\r\n']) {
      const res = await rawRequest(port, garbage);
      assert.equal(res.status, 400, JSON.stringify(garbage));
      assert.equal((JSON.parse(res.body) as ErrorAnswer).error.code, 'E_REQUEST_INVALID');
    }
    const connect = await rawRequest(port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    assert.equal(connect.status, 405, 'CONNECT is answered, not dropped');
    assert.equal((JSON.parse(connect.body) as ErrorAnswer).error.code, 'E_METHOD_NOT_ALLOWED');
    const noHost = await rawRequest(port, 'GET /health HTTP/1.1\r\nConnection: close\r\n\r\n');
    assert.equal(noHost.status, 400);
    assert.equal((JSON.parse(noHost.body) as ErrorAnswer).error.details?.field, 'headers/host');
    const fine = await rawRequest(port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(fine.status, 200, 'the server still serves');
  });

  it('refuses NUL bytes in path parameters, path segments, query values and bodies with 400 naming them', async () => {
    expectError(await send({ method: 'GET', url: '/api/v1/products/risk%00x' }), 400, 'E_REQUEST_INVALID', 'params/id');
    expectError(await send({ method: 'GET', url: '/api/v1/executions/a\u0000b' }), 400, 'E_REQUEST_INVALID', 'params/id');
    expectError(await send({ method: 'GET', url: '/api/v1/products?domain=%00' }), 400, 'E_REQUEST_INVALID', 'querystring/domain');
    expectError(await send({ method: 'GET', url: '/api/v1/lineage/graph?namespace=a&name=b%00' }), 400, 'E_REQUEST_INVALID', 'querystring/name');
    expectError(await send({ method: 'GET', url: '/api/v1/nowhere%00/x' }), 400, 'E_REQUEST_INVALID', 'path segment 3');
    const body = { playbook: 'risk/score_applications', workload: { name: 'a\u0000b' } };
    expectError(await send({ method: 'POST', url: '/api/v1/executions', payload: body }), 400, 'E_REQUEST_INVALID', 'body/workload/name');
    const key = { playbook: 'risk/score_applications', workload: { 'a\u0000': 1 } };
    expectError(await send({ method: 'POST', url: '/api/v1/executions', payload: key }), 400, 'E_REQUEST_INVALID');
    const reason = { reason: '\u0000' };
    expectError(await send({ method: 'POST', url: '/api/v1/executions/x/cancel', payload: reason }), 400, 'E_REQUEST_INVALID', 'body/reason');
  });

  it('refuses impossible dates with 400 naming the field', async () => {
    for (const asOf of ['0000-01-01T00:00:00Z', '2026-13-01T00:00:00Z', '2026-02-29T00:00:00Z', '2026-01-01T00:00:00+24:00']) {
      const res = await send({ method: 'GET', url: `/api/v1/lineage/graph?namespace=noetl%3A%2F%2Fproducts&name=risk.application_scores&asOf=${encodeURIComponent(asOf)}` });
      expectError(res, 400, 'E_REQUEST_INVALID', 'querystring/asOf');
    }
    const ok = await send({ method: 'GET', url: '/api/v1/lineage/graph?namespace=noetl%3A%2F%2Fproducts&name=risk.application_scores&asOf=2024-02-29T23:59:59Z' });
    assert.notEqual(ok.statusCode, 400, 'a real leap day is taken');
  });

  it('refuses JSON nested deeper than 64 levels before parsing it (10,000 and 500,000 deep)', async () => {
    const deep = (levels: number): string => `${'['.repeat(levels)}${']'.repeat(levels)}`;
    for (const [url, levels] of [['/api/v1/executions', 10_000], ['/api/v1/lineage/batch', 500_000], ['/api/v1/lineage', 65]] as const) {
      const res = await send({ method: 'POST', url, payload: deep(levels), headers: { 'content-type': 'application/json' } });
      assert.match(expectError(res, 400, 'E_REQUEST_INVALID', 'body').message, /deeper than 64 levels/);
    }
    const nested = (levels: number): unknown => (levels === 0 ? 'leaf' : { inner: nested(levels - 1) });
    const ok = await send({ method: 'POST', url: '/api/v1/executions', payload: { playbook: 'nobody/nothing', workload: nested(60) as object } });
    expectError(ok, 404, 'E_PLAYBOOK_NOT_FOUND');
  });

  it('refuses strings over 65,536 characters and path parameters or query values over 1,024, naming them', async () => {
    const body = { playbook: 'risk/score_applications', workload: { note: 'n'.repeat(65_537) } };
    expectError(await send({ method: 'POST', url: '/api/v1/executions', payload: body }), 400, 'E_REQUEST_INVALID', 'body/workload/note');
    expectError(await send({ method: 'GET', url: `/api/v1/products/${'p'.repeat(1_025)}` }), 400, 'E_REQUEST_INVALID', 'params/id');
    expectError(await send({ method: 'GET', url: `/api/v1/products?domain=${'d'.repeat(1_025)}` }), 400, 'E_REQUEST_INVALID', 'querystring/domain');
    expectError(await send({ method: 'GET', url: `/api/v1/products/${'p'.repeat(1_024)}` }), 404, 'E_PRODUCT_NOT_FOUND');
  });

  it('refuses unknown body fields and wrong types, without removing or coercing them', async () => {
    const extra = { playbook: 'risk/score_applications', priority: 'high' };
    expectError(await send({ method: 'POST', url: '/api/v1/executions', payload: extra }), 400, 'E_REQUEST_INVALID', 'body/priority');
    const cancel = { reason: 'r', force: true };
    expectError(await send({ method: 'POST', url: '/api/v1/executions/x/cancel', payload: cancel }), 400, 'E_REQUEST_INVALID', 'body/force');
    const number = { playbook: 'risk/score_applications', workload: 5 };
    expectError(await send({ method: 'POST', url: '/api/v1/executions', payload: number }), 400, 'E_REQUEST_INVALID', 'body/workload');
    const reason = { reason: 42 };
    expectError(await send({ method: 'POST', url: '/api/v1/executions/x/cancel', payload: reason }), 400, 'E_REQUEST_INVALID', 'body/reason');
    const executions = await registry.rt.database.db.selectFrom('executions').select('id').execute();
    assert.deepEqual(executions, [], 'none of them started anything');
  });

  it('cancels a running execution with 202, and answers 409 E_EXECUTION_FINISHED once it has ended', async () => {
    const started = await send({ method: 'POST', url: '/api/v1/executions', payload: { playbook: 'waits/wait' } });
    assert.equal(started.statusCode, 201, started.body);
    const { id } = started.json<{ id: string }>();
    const cancelled = await send({ method: 'POST', url: `/api/v1/executions/${id}/cancel` });
    assert.equal(cancelled.statusCode, 202, cancelled.body);
    assert.deepEqual(cancelled.json(), { id, status: 'cancelled' });
    const again = await send({ method: 'POST', url: `/api/v1/executions/${id}/cancel`, payload: { reason: 'again' } });
    assert.match(expectError(again, 409, 'E_EXECUTION_FINISHED').message, /already ended \(cancelled\)/);
    const built = await send({ method: 'POST', url: '/api/v1/executions', payload: { playbook: 'risk/score_applications' } });
    const builtId = built.json<{ id: string }>().id;
    assert.equal((await registry.rt.supervisor.waitFor(builtId)).status, 'completed');
    const late = await send({ method: 'POST', url: `/api/v1/executions/${builtId}/cancel`, payload: {} });
    assert.match(expectError(late, 409, 'E_EXECUTION_FINISHED').message, /already ended \(completed\)/);
    const events = await registry.rt.database.db.selectFrom('events').select('type').where('execution_id', '=', builtId).where('type', '=', 'execution.cancelled').execute();
    assert.deepEqual(events, [], 'a finished execution gets no cancel event');
  });
});
