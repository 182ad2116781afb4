/**
 * Generated bad HTTP requests for the registry (fast-check arbitraries). Every
 * request is bad by construction, never by a check of the code under test:
 * malformed JSON, wrong types, unknown fields, deep nesting, long strings, NUL
 * bytes, impossible dates, odd methods, content types, paths and ids, oversized
 * bodies, hostile OpenLineage events (a batch carries a fresh valid event beside
 * the hostile one, so a partial write would show), and raw bytes for Node's
 * HTTP parser. None may be answered 5xx, uncoded, or write anything.
 */
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';

export type BadRequest = { kind: string; inject: InjectOptions } | { kind: string; raw: string };

export interface CorpusContext {
  /** An execution that has ended: cancelling it is a conflict, not a write. */
  finishedExecution: string;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const api = fc.constantFrom('/api/v1', '');
const anyText = fc.string({ unit: 'binary', maxLength: 40 });
const safeText = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 });
const scalar = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), safeText);
const notAnObject = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), safeText, fc.array(scalar, { maxLength: 3 }));
const notAString = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(safeText, { maxLength: 2 }), fc.dictionary(safeText, scalar, { maxKeys: 2 }));
/** Unknown ids: never `.` or `..` (a client would resolve them away) and never an id that exists. */
const id = fc.string({ unit: 'binary', maxLength: 30 }).filter((s) => s !== '.' && s !== '..' && !/^[a-z]+\.[a-z_]+$/.test(s));
const withNul = fc.tuple(anyText, anyText).map(([a, b]) => `${a}\u0000${b}`);
const two = (n: number): string => String(n).padStart(2, '0');

const isJson = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

/** A valid OpenLineage run event, fresh each time. */
const lineageEvent = fc.uuid().map((runId) => ({
  eventType: 'COMPLETE',
  eventTime: '2026-10-02T03:01:30.000Z',
  producer: 'https://example.com/corpus',
  schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
  run: { runId },
  job: { namespace: 'corpus://jobs', name: `job-${runId}` },
  inputs: [{ namespace: 'corpus://lake', name: `in-${runId}` }],
  outputs: [{ namespace: 'corpus://lake', name: `out-${runId}` }],
}));
type Event = typeof lineageEvent extends fc.Arbitrary<infer T> ? T : never;

const post = (url: string, payload: unknown, headers: Record<string, string> = JSON_TYPE): InjectOptions => ({
  method: 'POST',
  url,
  headers,
  payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
});

/** Impossible date-times, each wrong in one part. */
export const badDateTime = fc.oneof(
  fc.constant('0000-06-15T12:00:00Z'),
  fc.integer({ min: 13, max: 99 }).map((month) => `2026-${two(month)}-01T00:00:00Z`),
  fc.constantFrom('2026-00-10T00:00:00Z', '2026-01-00T00:00:00Z', '2023-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-12-32T00:00:00Z'),
  fc.integer({ min: 24, max: 99 }).map((hour) => `2026-01-01T${two(hour)}:00:00Z`),
  fc.integer({ min: 60, max: 99 }).map((minute) => `2026-01-01T00:${two(minute)}:00Z`),
  fc.integer({ min: 61, max: 99 }).map((second) => `2026-01-01T00:00:${two(second)}Z`),
  fc.integer({ min: 16, max: 99 }).map((hours) => `2026-01-01T00:00:00+${two(hours)}:00`),
  fc.constantFrom('yesterday', '2026-01-01', '2026-01-01T00:00:00', '+010000-01-01T00:00:00Z', '', ' 2026-01-01T00:00:00Z'),
);

function jsonBodies(context: CorpusContext): fc.Arbitrary<BadRequest>[] {
  const jsonRoute = fc.tuple(api, fc.constantFrom('/executions', '/lineage', '/lineage/batch', `/executions/${context.finishedExecution}/cancel`, '/executions/nope/cancel')).map(([a, r]) => a + r);
  const malformed = fc.oneof(fc.json().map((j) => `${j}}`), fc.json().map((j) => j.slice(0, -1)), anyText, fc.constant('')).filter((t) => !isJson(t));
  const deep = fc.tuple(fc.integer({ min: 65, max: 3_000 }), fc.constantFrom('[', '{"a":'));
  const nested = (levels: number, open: string): string => `${open.repeat(levels)}1${(open === '[' ? ']' : '}').repeat(levels)}`;
  const long = fc.tuple(fc.integer({ min: 65_537, max: 70_000 }), fc.constantFrom('x', 'é', '😀'));
  return [
    fc.tuple(jsonRoute, malformed).map(([url, text]) => ({ kind: 'malformed JSON', inject: post(url, text) })),
    fc.tuple(api, deep).map(([a, [levels, open]]) => ({ kind: 'deep nesting', inject: post(`${a}/executions`, `{"playbook":"risk/score_applications","workload":{"x":${nested(levels, open)}}}`) })),
    fc.tuple(jsonRoute, deep).map(([url, [levels, open]]) => ({ kind: 'deep nesting', inject: post(url, nested(levels, open)) })),
    fc.tuple(api, long, fc.boolean()).map(([a, [length, char], asKey]) => {
      const text = char.repeat(Math.ceil(length / char.length));
      const workload = asKey ? { [text]: 1 } : { note: text };
      return { kind: 'long string', inject: post(`${a}/executions`, { playbook: 'risk/score_applications', workload }) };
    }),
    fc.tuple(api, withNul, fc.constantFrom('value', 'key', 'reason')).map(([a, text, where]) => {
      if (where === 'reason') return { kind: 'NUL in body', inject: post(`${a}/executions/${context.finishedExecution}/cancel`, { reason: text }) };
      const workload = where === 'key' ? { [text]: 1 } : { value: text };
      return { kind: 'NUL in body', inject: post(`${a}/executions`, { playbook: 'risk/score_applications', workload }) };
    }),
    fc.tuple(api, fc.oneof(fc.record({ playbook: notAString }), fc.record({ playbook: fc.constant('risk/score_applications'), workload: notAnObject }))).map(([a, body]) => ({ kind: 'wrong type', inject: post(`${a}/executions`, body) })),
    fc.tuple(api, notAString).map(([a, reason]) => ({ kind: 'wrong type', inject: post(`${a}/executions/${context.finishedExecution}/cancel`, { reason }) })),
    fc.tuple(api, notAnObject.filter((v) => !Array.isArray(v))).map(([a, body]) => ({ kind: 'wrong type', inject: post(`${a}/lineage/batch`, body) })),
    fc.tuple(api, safeText.filter((k) => !['playbook', 'workload'].includes(k)), scalar).map(([a, key, value]) => ({ kind: 'unknown field', inject: post(`${a}/executions`, { playbook: 'risk/score_applications', [key]: value }) })),
    fc.tuple(api, safeText.filter((k) => k !== 'reason'), scalar).map(([a, key, value]) => ({ kind: 'unknown field', inject: post(`${a}/executions/${context.finishedExecution}/cancel`, { [key]: value }) })),
    fc.tuple(api, fc.stringMatching(/^[a-z][a-z0-9_]{0,8}\/[a-z][a-z0-9_]{0,8}$/).filter((r) => !['risk/score_applications', 'marketing/build_campaign_targets', 'healthcare/patient_cohort', 'observability/ingest_traces', 'observability/page_on_call'].includes(r))).map(([a, playbook]) => ({ kind: 'unknown playbook', inject: post(`${a}/executions`, { playbook }) })),
    fc.tuple(api, safeText.filter((r) => !/^[a-z][a-z0-9_]*\/[a-z][a-z0-9_]*$/.test(r))).map(([a, playbook]) => ({ kind: 'bad playbook ref', inject: post(`${a}/executions`, { playbook }) })),
  ];
}

function urls(): fc.Arbitrary<BadRequest>[] {
  const get = (url: string): InjectOptions => ({ method: 'GET', url });
  const graph = (extra: string): string => `/lineage/graph?namespace=noetl%3A%2F%2Fproducts&name=risk.application_scores${extra}`;
  const badQuery = fc.oneof(
    fc.constantFrom('/executions?limit=0', '/executions?limit=501', '/executions?limit=abc', '/executions?limit=1.5', '/executions?limit=1&limit=2', '/executions?other=1'),
    fc.constantFrom(graph('&depth=-1'), graph('&depth=101'), graph('&direction=sideways'), graph('&maxNodes=0'), graph('&maxFanOut=x'), '/lineage/graph?name=x', '/lineage/graph?namespace=x', '/lineage', '/lineage?nodeId=nope', '/lineage/impact?namespace=&name=x'),
    safeText.filter((k) => !['namespace', 'name', 'column', 'direction', 'depth', 'maxNodes', 'maxFanOut', 'asOf'].includes(k)).map((k) => graph(`&${encodeURIComponent(k)}=1`)),
  );
  const encode = (s: string): string => encodeURIComponent(s);
  return [
    fc.tuple(api, badQuery).map(([a, q]) => ({ kind: 'bad query', inject: get(a + q) })),
    fc.tuple(api, badDateTime).map(([a, date]) => ({ kind: 'bad date', inject: get(`${a}${graph(`&asOf=${encode(date)}`)}`) })),
    fc.tuple(api, withNul, fc.constantFrom('products/', 'executions/', 'products/risk.application_scores/checks/', 'executions/')).map(([a, text, path]) => ({ kind: 'NUL in path', inject: get(`${a}/${path}${encode(text)}${path.includes('checks') ? '/history' : ''}`) })),
    fc.tuple(api, withNul).map(([a, text]) => ({ kind: 'raw NUL in path', inject: get(`${a}/products/${text.replace(/[^\u0000a-z]/gi, 'x')}`) })),
    fc.tuple(api, withNul, fc.constantFrom('/products?domain=', graph('&column='), '/lineage?nodeId=', '/executions?limit=')).map(([a, text, path]) => ({ kind: 'NUL in query', inject: get(`${a}${path}${encode(text)}`) })),
    fc.tuple(api, withNul).map(([a, text]) => ({ kind: 'NUL in query key', inject: get(`${a}/products?${encode(text)}=1`) })),
    fc.tuple(api, fc.integer({ min: 1_025, max: 3_000 }), fc.constantFrom('/products/', '/executions/', '/products?domain=', '/lineage?nodeId=dataset:')).map(([a, length, path]) => ({ kind: 'long parameter', inject: get(`${a}${path}${'p'.repeat(length)}`) })),
    fc.tuple(api, fc.integer({ min: 8_200, max: 12_000 })).map(([a, length]) => ({ kind: 'long URL', inject: get(`${a}/products?domain=${'d'.repeat(length)}`) })),
    fc.tuple(api, id, fc.constantFrom('/products/', '/executions/', '/products/{}/history', '/executions/{}/events', '/products/risk.application_scores/checks/{}/history')).map(([a, value, path]) => {
      const url = path.includes('{}') ? path.replace('{}', encode(value)) : path + encode(value);
      return { kind: 'unknown id', inject: get(a + url) };
    }),
    fc.tuple(id).map(([value]) => ({ kind: 'unknown id', inject: post(`/api/v1/executions/${encode(value)}/cancel`, {}) })),
    fc.tuple(api, fc.webPath(), fc.constantFrom('GET', 'POST', 'DELETE')).map(([a, path, method]) => ({ kind: 'unknown path', inject: { method, url: `${a}/zz${path}` } })),
    fc.tuple(api, fc.constantFrom('%E0%A4%A', '%C0%AF', '%ED%A0%80', '%FF', '%')).map(([a, bad]) => ({ kind: 'bad percent-encoding', inject: get(`${a}/products/${bad}`) })),
  ];
}

const ALLOWED: Record<string, string[]> = {
  '/products': ['GET', 'HEAD'],
  '/products/x': ['GET', 'HEAD'],
  '/executions': ['GET', 'HEAD', 'POST'],
  '/executions/x': ['GET', 'HEAD'],
  '/executions/x/cancel': ['POST'],
  '/lineage': ['GET', 'HEAD', 'POST'],
  '/lineage/batch': ['POST'],
  '/lineage/graph': ['GET', 'HEAD'],
  '/domains': ['GET', 'HEAD'],
};
const METHODS = ['DELETE', 'PUT', 'PATCH', 'OPTIONS', 'POST', 'GET', 'PROPFIND', 'SEARCH', 'LOCK', 'MKCOL', 'TRACE', 'QUERY', 'UNLINK'];

function methodsAndTypes(): fc.Arbitrary<BadRequest>[] {
  const wrongMethod = fc.tuple(fc.constantFrom(...Object.keys(ALLOWED)), fc.constantFrom(...METHODS)).filter(([path, method]) => !ALLOWED[path]!.includes(method));
  const mediaType = fc.oneof(
    fc.constantFrom('text/plain', 'text/html', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', 'application/json-patch+json', 'application/jsonl', 'image/png'),
    fc.tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.stringMatching(/^[a-z.+-]{1,12}$/)).map(([type, sub]) => `${type}/${sub}`),
  ).filter((t) => !['application/json', 'application/x-ndjson'].includes(t));
  return [
    fc.tuple(api, wrongMethod).map(([a, [path, method]]) => ({ kind: 'odd method', inject: { method, url: a + path, ...(method === 'GET' || method === 'HEAD' ? {} : { payload: '{}', headers: JSON_TYPE }) } })),
    fc.tuple(api, fc.constantFrom('/executions', '/lineage', '/lineage/batch', '/executions/x/cancel'), mediaType, anyText).map(([a, path, type, body]) => ({ kind: 'odd content type', inject: post(a + path, body, { 'content-type': type }) })),
    fc.tuple(api, fc.constantFrom('/executions', '/lineage', '/executions/x/cancel')).map(([a, path]) => ({ kind: 'odd content type', inject: post(a + path, '{}\n', { 'content-type': 'application/x-ndjson' }) })),
    fc.tuple(api, fc.integer({ min: 1_048_600, max: 1_200_000 })).map(([a, size]) => ({ kind: 'oversized body', inject: post(`${a}/executions`, `{"playbook":"risk/score_applications","workload":{"x":"${'a'.repeat(size)}"}}`) })),
  ];
}

/** One way to make a valid event hostile, and where the API must say the problem is. */
const hostility = fc.oneof(
  fc.tuple(fc.integer({ min: 101, max: 250 }), fc.integer({ min: 101, max: 250 })).map(([inputs, outputs]) => (e: Event) => ({
    ...e,
    inputs: Array.from({ length: inputs }, (_, i) => ({ namespace: 'corpus://lake', name: `in${i}` })),
    outputs: Array.from({ length: outputs }, (_, i) => ({ namespace: 'corpus://lake', name: `out${i}` })),
  })),
  fc.integer({ min: 1_001, max: 1_500 }).map((inputs) => (e: Event) => ({ ...e, eventType: 'START', inputs: Array.from({ length: inputs }, (_, i) => ({ namespace: 'corpus://lake', name: `in${i}` })) })),
  fc.constantFrom<unknown>('x', 5, null, {}, [{}], [{ namespace: 'a', name: 'b' }], [{ namespace: 1, name: 'b', field: 'c' }], [{ namespace: 'a', name: 'b', field: 'c', transformations: 'x' }], [{ namespace: 'a', name: 'b', field: 'c', transformations: [{ subtype: 'x' }] }]).map((inputFields) => (e: Event) => ({
    ...e,
    outputs: [{ ...e.outputs[0]!, facets: { columnLineage: { fields: { c: { inputFields } } } } }],
  })),
  fc.constantFrom<unknown>('x', null, [], { c: 'x' }, { c: {} }).map((fields) => (e: Event) => ({ ...e, outputs: [{ ...e.outputs[0]!, facets: { columnLineage: { fields } } }] })),
  fc.tuple(fc.constantFrom('namespace', 'name'), fc.integer({ min: 1, max: 3 })).map(([field, scale]) => (e: Event) => ({ ...e, job: { ...e.job, [field]: 'ü'.repeat((field === 'name' ? 251 : 101) * scale) } })),
  fc.integer({ min: 33, max: 200 }).map((length) => (e: Event) => ({
    ...e,
    outputs: [{ ...e.outputs[0]!, facets: { columnLineage: { fields: { c: { inputFields: [{ namespace: 'a', name: 'b', field: 'f', transformations: [{ type: 'T'.repeat(length) }] }] } } } } }],
  })),
  fc.tuple(safeText.filter((k) => !['eventTime', 'producer', 'schemaURL', 'eventType', 'run', 'job', 'inputs', 'outputs'].includes(k)), fc.constantFrom('', 'run', 'job', 'inputs')).map(([key, where]) => (e: Event) => {
    if (where === '') return { ...e, [key]: 1 };
    if (where === 'inputs') return { ...e, inputs: [{ ...e.inputs[0]!, [key === 'facets' || key === 'inputFacets' || key === 'namespace' || key === 'name' ? 'x_' : key]: 1 }] };
    const part = e[where];
    return { ...e, [where]: { ...part, [['facets', 'namespace', 'name', 'runId'].includes(key) ? 'x_' : key]: 1 } };
  }),
  badDateTime.map((eventTime) => (e: Event) => ({ ...e, eventTime })),
  withNul.map((text) => (e: Event) => ({ ...e, outputs: [{ ...e.outputs[0]!, facets: { note: { text } } }] })),
  fc.constantFrom<[string, unknown]>(['eventType', 'DONE'], ['eventTime', 5], ['run', 'r'], ['job', []], ['inputs', {}], ['producer', 'not a uri'], ['run', { runId: 'not-a-uuid' }], ['job', { namespace: '', name: 'x' }]).map(([key, value]) => (e: Event) => ({ ...e, [key]: value })),
  fc.constant((e: Event) => ({ ...e, outputs: [{ ...e.outputs[0]!, facets: Object.fromEntries(Array.from({ length: 18 }, (_, i) => [`pad${i}`, { text: 'p'.repeat(60_000) }])) }] })),
);

function hostileLineage(): fc.Arbitrary<BadRequest>[] {
  return [
    fc.tuple(api, lineageEvent, hostility).map(([a, event, spoil]) => ({ kind: 'hostile lineage event', inject: post(`${a}/lineage`, spoil(event)) })),
    fc.tuple(api, lineageEvent, lineageEvent, hostility, fc.boolean()).map(([a, fresh, event, spoil, ndjson]) => {
      const events = [fresh, spoil(event)];
      const body = ndjson ? `${events.map((e) => JSON.stringify(e)).join('\n')}\n` : events;
      return { kind: 'hostile lineage batch', inject: post(`${a}/lineage/batch`, body, ndjson ? { 'content-type': 'application/x-ndjson' } : JSON_TYPE) };
    }),
  ];
}

function rawBytes(): fc.Arbitrary<BadRequest>[] {
  const token = fc.stringMatching(/^[A-Z]{1,10}$/).filter((m) => m !== 'HEAD');
  const target = fc.string({ unit: fc.constantFrom(...'abc/%?=&#\u0000\u0001\u0007\t "<>\\^`{|}~\u007f'.split('')), maxLength: 20 }).map((t) => `/zz${t}`);
  return [
    fc.tuple(token, target).map(([method, path]) => ({ kind: 'raw request line', raw: `${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n` })),
    fc.tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.constantFrom('(', ')', ',', ';', '@', '"', ' ', '\u0001')).map(([name, bad]) => ({ kind: 'raw bad header', raw: `GET /health HTTP/1.1\r\nHost: x\r\n${name}${bad}x: 1\r\nConnection: close\r\n\r\n` })),
    fc.integer({ min: 17_000, max: 40_000 }).map((size) => ({ kind: 'raw huge header', raw: `GET /health HTTP/1.1\r\nHost: x\r\nX-Filler: ${'h'.repeat(size)}\r\nConnection: close\r\n\r\n` })),
    fc.constantFrom('9.9', 'x', '11', '1.1x').map((version) => ({ kind: 'raw bad version', raw: `GET /health HTTP/${version}\r\nHost: x\r\n\r\n` })),
    fc.stringMatching(/^[g-z]{1,4}$/).map((size) => ({ kind: 'raw bad chunk', raw: `POST /api/v1/lineage HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${size}\r\n{}\r\n0\r\n\r\n` })),
  ];
}

/** Every kind of bad request, about evenly. */
export function badRequests(context: CorpusContext): fc.Arbitrary<BadRequest> {
  return fc.oneof(...jsonBodies(context), ...urls(), ...methodsAndTypes(), ...hostileLineage(), ...rawBytes());
}
