/** The http tool against a real loopback server that misbehaves on purpose: slow, 500s, 429s, redirect loops, huge bodies. */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { NoetlError } from '../../common/errors.ts';
import { toolBench, type ToolBench } from '../helpers/tool-context.ts';

describe('http tool', () => {
  let server: http.Server;
  let base: string;
  let bench: ToolBench;
  const hits = new Map<string, number>();

  before(async () => {
    bench = await toolBench();
    server = http.createServer((req, res) => {
      const path = new URL(req.url!, 'http://x').pathname;
      const hit = (hits.get(path) ?? 0) + 1;
      hits.set(path, hit);
      const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (path === '/ok') return json(200, { ok: true, query: Object.fromEntries(new URL(req.url!, 'http://x').searchParams) });
      if (path === '/echo') {
        let b = '';
        req.on('data', (c: Buffer) => (b += c.toString()));
        req.on('end', () => json(200, { method: req.method, body: JSON.parse(b) as unknown }));
        return;
      }
      if (path === '/flaky') return hit <= 2 ? json(500, { error: 'boom' }) : json(200, { tries: hit });
      if (path === '/ratelimited') return hit === 1 ? json(429, { error: 'slow down' }, { 'retry-after': '1' }) : json(200, { tries: hit });
      if (path === '/down') return json(503, { error: 'down' });
      if (path === '/slow') return void setTimeout(() => json(200, {}), 2000);
      if (path === '/redirect') return json(302, {}, { location: '/ok' });
      if (path === '/loop') return json(302, {}, { location: '/loop' });
      if (path === '/private') return req.headers.authorization === 'Bearer t0ken' ? json(200, { secret: 'ok' }) : json(401, { error: 'who are you' });
      if (path === '/missing') return json(404, { error: 'no such thing' });
      if (path === '/big') return json(200, Array.from({ length: 5000 }, (_, i) => ({ id: i, name: `item ${i}`, price: i / 10 })));
      return json(404, {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.close();
    bench.close();
  });

  const run = async (tool: Record<string, unknown>, workload: Record<string, unknown> = {}, secrets: Record<string, string> = {}) => (await bench.run({ kind: 'http', ...tool }, { workload, secrets })).result;

  it('returns a small JSON answer as the value, with templated query parameters', async () => {
    assert.deepEqual(await run({ url: `${base}/ok`, query: { day: '{{ workload.day }}' } }, { day: '2026-11-28' }), { kind: 'value', value: { ok: true, query: { day: '2026-11-28' } } });
    assert.deepEqual(await run({ method: 'POST', url: `${base}/echo`, body: { a: 1 } }), { kind: 'value', value: { method: 'POST', body: { a: 1 } } });
  });

  it('retries 5xx with backoff and 429 after Retry-After', async () => {
    assert.deepEqual(await run({ url: `${base}/flaky` }), { kind: 'value', value: { tries: 3 } });
    const t0 = Date.now();
    assert.deepEqual(await run({ url: `${base}/ratelimited` }), { kind: 'value', value: { tries: 2 } });
    assert.ok(Date.now() - t0 >= 900, 'waited for Retry-After');
  });

  it('gives up after its retries with a retryable error', async () => {
    await assert.rejects(run({ url: `${base}/down`, retries: 1 }), (e: unknown) => (e as { code?: string }).code === 'E_TOOL_FAILED' && /answered 503 after 2 tries/.test((e as Error).message));
  });

  it('fails a client error without retrying', async () => {
    const before = hits.get('/missing') ?? 0;
    await assert.rejects(run({ url: `${base}/missing` }), { code: 'E_HTTP_STATUS' });
    assert.equal(hits.get('/missing'), before + 1);
  });

  it('times out a slow server', async () => {
    await assert.rejects(run({ url: `${base}/slow`, timeout: '300ms', retries: 0 }), { code: 'E_STEP_TIMEOUT' });
  });

  it('follows redirects, at most max_redirects', async () => {
    assert.equal(((await run({ url: `${base}/redirect` })) as { value: { ok: boolean } }).value.ok, true);
    await assert.rejects(run({ url: `${base}/loop`, max_redirects: 3 }), /more than 3 redirects/);
  });

  it('turns a large JSON array into a Parquet table reference', async () => {
    const r = await run({ url: `${base}/big`, inline_limit: 10_000 });
    assert.equal(r.kind, 'table');
    if (r.kind !== 'table') return;
    assert.equal(r.rows, 5000);
    assert.deepEqual(r.schema.map((c) => c.name), ['id', 'name', 'price']);
  });

  it('authenticates with a bearer credential from the keychain, never templated; a wrong one is a 401, E_HTTP_STATUS', async () => {
    assert.deepEqual(await run({ url: `${base}/private`, auth: { bearer: 'api' } }, {}, { api: 't0ken' }), { kind: 'value', value: { secret: 'ok' } });
    await assert.rejects(run({ url: `${base}/private`, auth: { bearer: 'api' } }, {}, { api: 'wrong' }), (e: unknown) => e instanceof NoetlError && e.code === 'E_HTTP_STATUS' && /401/.test(e.message) && !e.message.includes('wrong'));
    await assert.rejects(run({ url: `${base}/private`, auth: { token: 'api' } }), /auth is \{bearer/);
  });

  it('refuses a missing or non-http url', async () => {
    await assert.rejects(run({ url: 'ftp://x' }), { code: 'E_PLAYBOOK_INVALID' });
  });
});
