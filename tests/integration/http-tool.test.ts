/**
 * The http tool against real loopback servers that misbehave on purpose: slow,
 * 500s, 429s, redirect loops, huge and compressed bodies, redirects to other
 * origins and to private addresses. The servers are on loopback, which the
 * tool refuses unless its allowlist names it: every test says which it allows.
 * Refusals of addresses outside loopback are checked to happen before any
 * connection is attempted (no packet leaves this machine).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { NoetlError } from '../../common/errors.ts';
import { toolBench, type ToolBench } from '../helpers/tool-context.ts';

describe('http tool', () => {
  let server: http.Server;
  let other: http.Server;
  let base: string;
  let otherBase: string;
  /** Only the first server: the one the tests name in their allowlist. */
  let allowed: string;
  let bench: ToolBench;
  const hits = new Map<string, number>();
  const seen = (req: http.IncomingMessage): Record<string, unknown> => ({ authorization: req.headers.authorization, proxy: req.headers['proxy-authorization'], cookie: req.headers.cookie, custom: req.headers['x-custom'] });

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
      if (path === '/chunked') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('[');
        for (let i = 0; i < 2000; i++) res.write(`${i},`);
        return void res.end('0]');
      }
      if (path === '/gzip') return void res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(zlib.gzipSync(JSON.stringify({ zipped: true })));
      if (path === '/gzip-bomb') return void res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(zlib.gzipSync(Buffer.alloc(20 * 1024 * 1024, 0x20)));
      if (path === '/headers') return json(200, seen(req));
      if (path === '/to-same-origin') return json(302, {}, { location: '/headers' });
      if (path === '/to-other-origin') return json(302, {}, { location: `${otherBase}/headers` });
      if (path === '/to-metadata') return json(302, {}, { location: 'http://169.254.169.254/latest/meta-data/iam/' });
      if (path === '/to-file') return json(302, {}, { location: 'file:///etc/passwd' });
      if (path === '/see-other' || path === '/temporary') return json(path === '/see-other' ? 303 : 307, {}, { location: '/method' });
      if (path === '/method') {
        let b = '';
        req.on('data', (c: Buffer) => (b += c.toString()));
        req.on('end', () => json(200, { method: req.method, body: b, type: req.headers['content-type'] ?? null }));
        return;
      }
      return json(404, {});
    });
    other = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(seen(req))));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    otherBase = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    allowed = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.close();
    other.close();
    bench.close();
  });

  const run = async (tool: Record<string, unknown>, workload: Record<string, unknown> = {}, secrets: Record<string, string> = {}, httpAllow = allowed) => (await bench.run({ kind: 'http', ...tool }, { workload, secrets, httpAllow })).result;

  /** Every connection the process attempts while `work` runs, by address. */
  const connections = async (work: () => Promise<unknown>): Promise<string[]> => {
    const attempted: string[] = [];
    const original = Object.getOwnPropertyDescriptor(net.Socket.prototype, 'connect')!;
    const connect = original.value as (this: net.Socket, ...args: unknown[]) => net.Socket;
    const spy = function (this: net.Socket, ...args: unknown[]): net.Socket {
      // net.connect hands its arguments over normalized, as one array.
      const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
      const options = first as { host?: string; port?: number } | number;
      attempted.push(typeof options === 'object' ? `${options.host}:${options.port}` : `${String(args[1])}:${options}`);
      return connect.apply(this, args);
    };
    Object.defineProperty(net.Socket.prototype, 'connect', { ...original, value: spy });
    try {
      await work();
    } finally {
      Object.defineProperty(net.Socket.prototype, 'connect', original);
    }
    return attempted;
  };

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

  it('refuses private, link-local, loopback and other restricted addresses before connecting, naming the host and why', async () => {
    const refused: [string, RegExp][] = [
      ['http://10.0.0.1/', /10\.0\.0\.1 is private/],
      ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is link-local .*metadata/],
      ['http://192.168.1.1:8080/admin', /192\.168\.1\.1 is private/],
      ['http://[fd00::1]/', /fd00::1 is unique local/],
      ['http://[fe80::1]/', /link-local/],
      ['http://[::ffff:169.254.169.254]/', /link-local .* in IPv4-mapped .* form/],
      ['http://100.64.0.1/', /CGNAT/],
      ['http://0.0.0.0/', /unspecified/],
      ['http://[::]/', /unspecified/],
      ['http://224.0.0.1/', /multicast/],
      ['http://255.255.255.255/', /broadcast/],
      ['http://2130706433/', /127\.0\.0\.1 is loopback/],
      [`${base}/ok`, /127\.0\.0\.1 is loopback/],
      [`http://localhost:${new URL(base).port}/ok`, /localhost resolves to 127\.0\.0\.1, which is loopback/],
    ];
    const attempted = await connections(async () => {
      for (const [url, why] of refused) {
        await assert.rejects(run({ url, retries: 0 }, {}, {}, ''), (e: unknown) => e instanceof NoetlError && e.code === 'E_HTTP_ADDRESS_REFUSED' && !e.retryable && why.test(e.message) && /NOETL_HTTP_ALLOW/.test(e.message), url);
      }
      // An allowlist that names another port, or another address, allows nothing here.
      await assert.rejects(run({ url: `${base}/ok` }, {}, {}, '127.0.0.1:1, 10.0.0.0/8, 192.168.1.1'), { code: 'E_HTTP_ADDRESS_REFUSED' });
    });
    assert.deepEqual(attempted, [], 'no connection was attempted');
  });

  it('reaches a loopback server the allowlist names, by address, network or host name', async () => {
    const port = new URL(base).port;
    for (const allow of [`127.0.0.1:${port}`, '127.0.0.0/8', '127.0.0.1', `localhost:${port}`]) {
      const url = allow.startsWith('localhost') ? `http://localhost:${port}/ok` : `${base}/ok`;
      assert.deepEqual(await run({ url }, {}, {}, allow), { kind: 'value', value: { ok: true, query: {} } }, allow);
    }
  });

  it('checks every redirect hop: a redirect to the metadata address is refused without connecting to it', async () => {
    const attempted = await connections(() => assert.rejects(run({ url: `${base}/to-metadata` }), (e: unknown) => e instanceof NoetlError && e.code === 'E_HTTP_ADDRESS_REFUSED' && /169\.254\.169\.254/.test(e.message)));
    assert.deepEqual(attempted.map((a) => a.replace(/:\d+$/, '')), ['127.0.0.1'], 'only the allowed first hop');
    await assert.rejects(run({ url: `${base}/to-file` }), /redirected to a file: URL/);
  });

  it('drops Authorization, Proxy-Authorization and Cookie on a redirect to another origin, keeps them on the same origin', async () => {
    const tool = { headers: { Cookie: 'session=abc', 'Proxy-Authorization': 'Basic cHJveHk6cHc=', 'X-Custom': 'kept' }, auth: { bearer: 'api' } };
    const secrets = { api: 't0ken' };
    const both = `${allowed}, 127.0.0.1:${new URL(otherBase).port}`;
    assert.deepEqual(await run({ url: `${base}/to-same-origin`, ...tool }, {}, secrets, both), { kind: 'value', value: { authorization: 'Bearer t0ken', proxy: 'Basic cHJveHk6cHc=', cookie: 'session=abc', custom: 'kept' } });
    assert.deepEqual(await run({ url: `${base}/to-other-origin`, ...tool }, {}, secrets, both), { kind: 'value', value: { custom: 'kept' } }, 'another port is another origin');
  });

  it('turns a POST redirected with 303 into a GET without a body; a 307 keeps both', async () => {
    assert.deepEqual(await run({ method: 'POST', url: `${base}/see-other`, body: { a: 1 } }), { kind: 'value', value: { method: 'GET', body: '', type: null } });
    assert.deepEqual(await run({ method: 'POST', url: `${base}/temporary`, body: { a: 1 } }), { kind: 'value', value: { method: 'POST', body: '{"a":1}', type: 'application/json' } });
  });

  it('refuses an answer over max_bytes, declared or streamed, and a compressed one that inflates past it', async () => {
    const tooLarge = (e: unknown): boolean => e instanceof NoetlError && e.code === 'E_HTTP_TOO_LARGE' && !e.retryable && /max_bytes \(1000 bytes\)/.test(e.message);
    await assert.rejects(run({ url: `${base}/big`, max_bytes: 1000 }), tooLarge);
    await assert.rejects(run({ url: `${base}/chunked`, max_bytes: 1000 }), tooLarge);
    await assert.rejects(run({ url: `${base}/gzip-bomb`, max_bytes: 1000 }), tooLarge);
    assert.equal(((await run({ url: `${base}/chunked` })) as { value: unknown[] }).value.length, 2001, 'under the default it is read whole');
    assert.deepEqual(await run({ url: `${base}/gzip` }), { kind: 'value', value: { zipped: true } }, 'a compressed answer is decoded');
    await assert.rejects(run({ url: `${base}/ok`, max_bytes: 0 }), { code: 'E_PLAYBOOK_INVALID' });
  });

  it('refuses a header value with a line break (no header injection)', async () => {
    await assert.rejects(run({ url: `${base}/headers`, headers: { 'X-Custom': 'a\r\nX-Injected: 1' } }), { code: 'E_PLAYBOOK_INVALID' });
  });
});
