/**
 * The embedder suite over both adapters: the local lexical embedder, and the
 * OpenAI-compatible adapter against a scripted OpenAI-compatible server the
 * test starts on loopback (its vectors are bags of hashed words, enough to
 * tell near from far). Then what only the remote adapter does: batches,
 * retries on 429 and 5xx, a timeout, answers out of order, malformed answers,
 * `encoding_format: 'float'` and the key as a bearer token.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { cosine, LocalEmbedder, OpenAiEmbedder, wordsOf } from '../../platform/embedder/index.ts';
import { embedderConformance } from '../conformance/embedder-suite.ts';

interface Call {
  input: string[];
  encodingFormat: unknown;
  authorization: string | undefined;
}

/** A scripted embeddings endpoint: `script` may answer a call differently (an error, a delay, a wrong answer). */
function scriptedServer() {
  const calls: Call[] = [];
  let script: ((call: Call, res: http.ServerResponse) => boolean) | undefined;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const parsed = JSON.parse(body) as { input: string[]; encoding_format: unknown };
      const call = {
        input: parsed.input,
        encodingFormat: parsed.encoding_format,
        authorization: req.headers.authorization,
      };
      calls.push(call);
      if (script?.(call, res)) return;
      const data = parsed.input.map((text, index) => ({ object: 'embedding', index, embedding: bagOfWords(text) }));
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ object: 'list', data, model: 'm', usage: { prompt_tokens: 1, total_tokens: 1 } }));
    });
  });
  return {
    calls,
    set script(s: typeof script) {
      script = s;
    },
    listen: () =>
      new Promise<string>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`)),
      ),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function bagOfWords(text: string): number[] {
  const v = new Array<number>(16).fill(0);
  for (const w of wordsOf(text)) v[[...w].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 16, 7)]! += 1;
  return v.some((x) => x !== 0) ? v : [1, ...new Array<number>(15).fill(0)];
}

const server = scriptedServer();
let baseUrl = '';
const remote = (options: Partial<ConstructorParameters<typeof OpenAiEmbedder>[0]> = {}) =>
  new OpenAiEmbedder({ baseUrl, model: 'm', apiKey: 'sk-test-key', maxRetries: 2, timeoutMs: 2000, ...options });

before(async () => {
  baseUrl = await server.listen();
});
after(() => server.close());

embedderConformance({ name: 'local (lexical)', open: () => Promise.resolve(new LocalEmbedder()) });
embedderConformance({ name: 'OpenAI-compatible (scripted server)', open: () => Promise.resolve(remote()) });

describe('the local embedder reads identifiers as words', () => {
  it('puts customer_id, customerId and "customer id" together, and a product id near its words', async () => {
    const [snake, camel, words, other, product, query] = await new LocalEmbedder().embed([
      'customer_id',
      'customerId',
      'customer id',
      'order_total',
      'risk.application_scores',
      'application scores',
    ]);
    assert.ok(cosine(snake!, camel!) > 0.99 && cosine(snake!, words!) > 0.99);
    assert.ok(cosine(snake!, other!) < 0.3);
    assert.ok(cosine(product!, query!) > 0.6, String(cosine(product!, query!)));
  });
});

describe('the OpenAI-compatible embedder', () => {
  it('sends batches of batchSize texts, floats asked for, the key as a bearer token', async () => {
    server.calls.length = 0;
    const vectors = await remote({ batchSize: 2 }).embed(['a b', 'c d', 'e f', 'g h', 'i j']);
    assert.equal(vectors.length, 5);
    assert.deepEqual(
      server.calls.map((c) => c.input.length),
      [2, 2, 1],
    );
    assert.ok(server.calls.every((c) => c.encodingFormat === 'float' && c.authorization === 'Bearer sk-test-key'));
  });

  it('retries on 429 and 5xx, then gives up with E_EMBEDDER_FAILED', async () => {
    let failures = 2;
    server.script = (_call, res) => {
      if (failures-- <= 0) return false;
      res
        .writeHead(failures === 1 ? 429 : 503, { 'content-type': 'application/json', 'retry-after-ms': '10' })
        .end('{"error":{"message":"busy"}}');
      return true;
    };
    assert.equal((await remote().embed(['retried'])).length, 1);
    server.script = (_call, res) => {
      res.writeHead(500, { 'retry-after-ms': '10' }).end('{}');
      return true;
    };
    await assert.rejects(
      remote().embed(['never']),
      (e: unknown) =>
        (e as { code?: string }).code === 'E_EMBEDDER_FAILED' && /answered 500/.test((e as Error).message),
    );
    server.script = undefined;
  });

  it('stops a request that takes too long', async () => {
    server.script = (_call, res) => {
      setTimeout(() => res.writeHead(200).end('{}'), 3000).unref();
      return true;
    };
    await assert.rejects(remote({ timeoutMs: 200, maxRetries: 0 }).embed(['slow']), { code: 'E_EMBEDDER_FAILED' });
    server.script = undefined;
  });

  it('puts vectors back in the order of the texts, and refuses an answer with the wrong number of them', async () => {
    server.script = (call, res) => {
      const data = call.input.map((text, index) => ({ index, embedding: bagOfWords(text) })).reverse();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data }));
      return true;
    };
    const [first, second] = await remote().embed(['alpha beta', 'gamma delta']);
    const [alone] = await remote().embed(['alpha beta']);
    assert.deepEqual(first, alone);
    assert.notDeepEqual(first, second);
    server.script = (_call, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: [] }));
      return true;
    };
    await assert.rejects(remote().embed(['x', 'y']), (e: unknown) =>
      /gave 0 vectors for 2 texts/.test((e as Error).message),
    );
    server.script = undefined;
  });
});
