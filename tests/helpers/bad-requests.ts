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
const NDJSON_TYPE = { 'content-type': 'application/x-ndjson' };
const PLAYBOOK = 'risk/score_applications';
const SHIPPED_PLAYBOOKS = [
  PLAYBOOK,
  'marketing/build_campaign_targets',
  'healthcare/patient_cohort',
  'observability/ingest_traces',
  'observability/page_on_call',
];
const GRAPH = '/lineage/graph?namespace=noetl%3A%2F%2Fproducts&name=risk.application_scores';

const api = fc.constantFrom('/api/v1', '');
const anyText = fc.string({ unit: 'binary', maxLength: 40 });
const safeText = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 });
const scalar = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), safeText);
const list = fc.array(scalar, { maxLength: 3 });
const notAnObject = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), safeText, list);
const notAString = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), list, fc.dictionary(safeText, scalar, { maxKeys: 2 }));
/** Unknown ids: never `.` or `..` (a client would resolve them away) and never a product id. */
const unknownId = fc.string({ unit: 'binary', maxLength: 30 }).filter((s) => s !== '.' && s !== '..' && !/^[a-z]+\.[a-z_]+$/.test(s));
const withNul = fc.tuple(anyText, anyText).map(([a, b]) => `${a}\u0000${b}`);
const keyOtherThan = (...known: string[]): fc.Arbitrary<string> => safeText.filter((k) => !known.includes(k));
const two = (n: number): string => String(n).padStart(2, '0');
const encode = (s: string): string => encodeURIComponent(s);

const isJson = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

const get = (url: string): InjectOptions => ({ method: 'GET', url });
const post = (url: string, payload: unknown, headers: Record<string, string> = JSON_TYPE): InjectOptions => ({
  method: 'POST',
  url,
  headers,
  payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
});
const bad = (kind: string) => (inject: InjectOptions): BadRequest => ({ kind, inject });

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

function nested(levels: number, open: string): string {
  return `${open.repeat(levels)}1${(open === '[' ? ']' : '}').repeat(levels)}`;
}

function jsonBodies(context: CorpusContext): fc.Arbitrary<BadRequest>[] {
  const cancelFinished = `/executions/${context.finishedExecution}/cancel`;
  const routes = fc.constantFrom('/executions', '/lineage', '/lineage/batch', cancelFinished, '/executions/nope/cancel');
  const jsonRoute = fc.tuple(api, routes).map(([prefix, route]) => prefix + route);
  const malformed = fc
    .oneof(fc.json().map((j) => `${j}}`), fc.json().map((j) => j.slice(0, -1)), anyText, fc.constant(''))
    .filter((text) => !isJson(text));
  const deep = fc.tuple(fc.integer({ min: 65, max: 3_000 }), fc.constantFrom('[', '{"a":'));
  const long = fc.tuple(fc.integer({ min: 65_537, max: 70_000 }), fc.constantFrom('x', 'é', '😀'), fc.boolean());
  const wrongExecution = fc.oneof(fc.record({ playbook: notAString }), fc.record({ playbook: fc.constant(PLAYBOOK), workload: notAnObject }));
  const unknownPlaybook = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}\/[a-z][a-z0-9_]{0,8}$/).filter((r) => !SHIPPED_PLAYBOOKS.includes(r));
  const badRef = safeText.filter((r) => !/^[a-z][a-z0-9_]*\/[a-z][a-z0-9_]*$/.test(r));
  return [
    fc.tuple(jsonRoute, malformed).map(([url, text]) => bad('malformed JSON')(post(url, text))),
    fc.tuple(api, deep).map(([prefix, [levels, open]]) => {
      const body = `{"playbook":"${PLAYBOOK}","workload":{"x":${nested(levels, open)}}}`;
      return bad('deep nesting')(post(`${prefix}/executions`, body));
    }),
    fc.tuple(jsonRoute, deep).map(([url, [levels, open]]) => bad('deep nesting')(post(url, nested(levels, open)))),
    fc.tuple(api, long).map(([prefix, [length, char, asKey]]) => {
      const text = char.repeat(Math.ceil(length / char.length));
      const workload = asKey ? { [text]: 1 } : { note: text };
      return bad('long string')(post(`${prefix}/executions`, { playbook: PLAYBOOK, workload }));
    }),
    fc.tuple(api, withNul, fc.constantFrom('value', 'key', 'reason')).map(([prefix, text, where]) => {
      if (where === 'reason') return bad('NUL in body')(post(prefix + cancelFinished, { reason: text }));
      const workload = where === 'key' ? { [text]: 1 } : { value: text };
      return bad('NUL in body')(post(`${prefix}/executions`, { playbook: PLAYBOOK, workload }));
    }),
    fc.tuple(api, wrongExecution).map(([prefix, body]) => bad('wrong type')(post(`${prefix}/executions`, body))),
    fc.tuple(api, notAString).map(([prefix, reason]) => bad('wrong type')(post(prefix + cancelFinished, { reason }))),
    fc.tuple(api, notAnObject.filter((v) => !Array.isArray(v))).map(([prefix, body]) => bad('wrong type')(post(`${prefix}/lineage/batch`, body))),
    fc.tuple(api, keyOtherThan('playbook', 'workload'), scalar).map(([prefix, key, value]) => {
      return bad('unknown field')(post(`${prefix}/executions`, { playbook: PLAYBOOK, [key]: value }));
    }),
    fc.tuple(api, keyOtherThan('reason'), scalar).map(([prefix, key, value]) => bad('unknown field')(post(prefix + cancelFinished, { [key]: value }))),
    fc.tuple(api, unknownPlaybook).map(([prefix, playbook]) => bad('unknown playbook')(post(`${prefix}/executions`, { playbook }))),
    fc.tuple(api, badRef).map(([prefix, playbook]) => bad('bad playbook ref')(post(`${prefix}/executions`, { playbook }))),
  ];
}

function urls(): fc.Arbitrary<BadRequest>[] {
  const graphKeys = ['namespace', 'name', 'column', 'direction', 'depth', 'maxNodes', 'maxFanOut', 'asOf'];
  const badQuery = fc.oneof(
    fc.constantFrom('/executions?limit=0', '/executions?limit=501', '/executions?limit=abc', '/executions?limit=1.5'),
    fc.constantFrom('/executions?limit=1&limit=2', '/executions?other=1', '/lineage', '/lineage?nodeId=nope'),
    fc.constantFrom(`${GRAPH}&depth=-1`, `${GRAPH}&depth=101`, `${GRAPH}&direction=sideways`, `${GRAPH}&maxNodes=0`),
    fc.constantFrom(`${GRAPH}&maxFanOut=x`, '/lineage/graph?name=x', '/lineage/graph?namespace=x', '/lineage/impact?namespace=&name=x'),
    keyOtherThan(...graphKeys).map((key) => `${GRAPH}&${encode(key)}=1`),
  );
  const nulPaths = fc.constantFrom('/products/{}', '/executions/{}', '/products/risk.application_scores/checks/{}/history');
  const nulQueries = fc.constantFrom('/products?domain=', `${GRAPH}&column=`, '/lineage?nodeId=', '/executions?limit=');
  const longParameter = fc.constantFrom('/products/', '/executions/', '/products?domain=', '/lineage?nodeId=dataset:');
  const idPaths = fc.constantFrom('/products/{}', '/executions/{}', '/products/{}/history', '/executions/{}/events', '/products/risk.application_scores/checks/{}/history');
  const badEncoding = fc.constantFrom('%E0%A4%A', '%C0%AF', '%ED%A0%80', '%FF', '%');
  return [
    fc.tuple(api, badQuery).map(([prefix, query]) => bad('bad query')(get(prefix + query))),
    fc.tuple(api, badDateTime).map(([prefix, date]) => bad('bad date')(get(`${prefix}${GRAPH}&asOf=${encode(date)}`))),
    fc.tuple(api, withNul, nulPaths).map(([prefix, text, path]) => bad('NUL in path')(get(prefix + path.replace('{}', encode(text))))),
    fc.tuple(api, withNul).map(([prefix, text]) => bad('raw NUL in path')(get(`${prefix}/products/${text.replace(/[^\u0000a-z]/gi, 'x')}`))),
    fc.tuple(api, withNul, nulQueries).map(([prefix, text, path]) => bad('NUL in query')(get(prefix + path + encode(text)))),
    fc.tuple(api, withNul).map(([prefix, text]) => bad('NUL in query key')(get(`${prefix}/products?${encode(text)}=1`))),
    fc.tuple(api, fc.integer({ min: 1_025, max: 3_000 }), longParameter).map(([prefix, length, path]) => {
      return bad('long parameter')(get(prefix + path + 'p'.repeat(length)));
    }),
    fc.tuple(api, fc.integer({ min: 8_200, max: 12_000 })).map(([prefix, length]) => bad('long URL')(get(`${prefix}/products?domain=${'d'.repeat(length)}`))),
    fc.tuple(api, unknownId, idPaths).map(([prefix, id, path]) => bad('unknown id')(get(prefix + path.replace('{}', encode(id))))),
    unknownId.map((id) => bad('unknown id')(post(`/api/v1/executions/${encode(id)}/cancel`, {}))),
    fc.tuple(api, fc.webPath(), fc.constantFrom('GET', 'POST', 'DELETE')).map(([prefix, path, method]) => {
      return bad('unknown path')({ method, url: `${prefix}/zz${path}` });
    }),
    fc.tuple(api, badEncoding).map(([prefix, encoded]) => bad('bad percent-encoding')(get(`${prefix}/products/${encoded}`))),
  ];
}

/** Paths the API serves, with the methods each takes. */
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
  const wrongMethod = fc
    .tuple(fc.constantFrom(...Object.keys(ALLOWED)), fc.constantFrom(...METHODS))
    .filter(([path, method]) => !ALLOWED[path]!.includes(method));
  const namedTypes = fc.constantFrom(
    'text/plain',
    'text/html',
    'application/xml',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/octet-stream',
    'application/json-patch+json',
    'application/jsonl',
    'image/png',
  );
  const randomTypes = fc.tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.stringMatching(/^[a-z.+-]{1,12}$/)).map(([type, sub]) => `${type}/${sub}`);
  const mediaType = fc.oneof(namedTypes, randomTypes).filter((t) => !['application/json', 'application/x-ndjson'].includes(t));
  const jsonRoutes = fc.constantFrom('/executions', '/lineage', '/lineage/batch', '/executions/x/cancel');
  return [
    fc.tuple(api, wrongMethod).map(([prefix, [path, method]]) => {
      const body = method === 'GET' ? {} : { payload: '{}', headers: JSON_TYPE };
      return bad('odd method')({ method, url: prefix + path, ...body });
    }),
    fc.tuple(api, jsonRoutes, mediaType, anyText).map(([prefix, path, type, body]) => {
      return bad('odd content type')(post(prefix + path, body, { 'content-type': type }));
    }),
    fc.tuple(api, fc.constantFrom('/executions', '/lineage', '/executions/x/cancel')).map(([prefix, path]) => {
      return bad('odd content type')(post(prefix + path, '{}\n', NDJSON_TYPE));
    }),
    fc.tuple(api, fc.integer({ min: 1_048_600, max: 1_200_000 })).map(([prefix, size]) => {
      const body = `{"playbook":"${PLAYBOOK}","workload":{"x":"${'a'.repeat(size)}"}}`;
      return bad('oversized body')(post(`${prefix}/executions`, body));
    }),
  ];
}

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
type Spoil = (event: Event) => Record<string, unknown>;

const datasets = (n: number, prefix: string): { namespace: string; name: string }[] =>
  Array.from({ length: n }, (_, i) => ({ namespace: 'corpus://lake', name: `${prefix}${i}` }));
const withOutputFacets = (e: Event, facets: Record<string, unknown>): Record<string, unknown> => ({ ...e, outputs: [{ ...e.outputs[0]!, facets }] });
const withColumnLineage = (e: Event, fields: unknown): Record<string, unknown> => withOutputFacets(e, { columnLineage: { fields } });

const brokenInputFields: unknown[] = [
  'x',
  5,
  null,
  {},
  [{}],
  [{ namespace: 'a', name: 'b' }],
  [{ namespace: 1, name: 'b', field: 'c' }],
  [{ namespace: 'a', name: 'b', field: 'c', transformations: 'x' }],
  [{ namespace: 'a', name: 'b', field: 'c', transformations: [{ subtype: 'x' }] }],
];
const wrongFieldTypes: [string, unknown][] = [
  ['eventType', 'DONE'],
  ['eventTime', 5],
  ['run', 'r'],
  ['job', []],
  ['inputs', {}],
  ['producer', 'not a uri'],
  ['run', { runId: 'not-a-uuid' }],
  ['job', { namespace: '', name: 'x' }],
];
const EVENT_FIELDS = ['eventTime', 'producer', 'schemaURL', 'eventType', 'run', 'job', 'inputs', 'outputs'];
const NESTED_FIELDS = ['facets', 'inputFacets', 'namespace', 'name', 'runId'];

/** Ways to make a valid event hostile. */
const hostility: fc.Arbitrary<Spoil> = fc.oneof(
  fc.tuple(fc.integer({ min: 101, max: 250 }), fc.integer({ min: 101, max: 250 })).map(([inputs, outputs]): Spoil => {
    return (e) => ({ ...e, inputs: datasets(inputs, 'in'), outputs: datasets(outputs, 'out') });
  }),
  fc.integer({ min: 1_001, max: 1_500 }).map((inputs): Spoil => (e) => ({ ...e, eventType: 'START', inputs: datasets(inputs, 'in') })),
  fc.constantFrom(...brokenInputFields).map((inputFields): Spoil => (e) => withColumnLineage(e, { c: { inputFields } })),
  fc.constantFrom<unknown>('x', null, [], { c: 'x' }, { c: {} }).map((fields): Spoil => (e) => withColumnLineage(e, fields)),
  fc.tuple(fc.constantFrom('namespace', 'name'), fc.integer({ min: 1, max: 3 })).map(([field, scale]): Spoil => {
    return (e) => ({ ...e, job: { ...e.job, [field]: 'ü'.repeat((field === 'name' ? 251 : 101) * scale) } });
  }),
  fc.integer({ min: 33, max: 200 }).map((length): Spoil => {
    const inputFields = [{ namespace: 'a', name: 'b', field: 'f', transformations: [{ type: 'T'.repeat(length) }] }];
    return (e) => withColumnLineage(e, { c: { inputFields } });
  }),
  fc.tuple(keyOtherThan(...EVENT_FIELDS), fc.constantFrom('', 'run', 'job', 'inputs')).map(([key, where]): Spoil => {
    const nestedKey = NESTED_FIELDS.includes(key) ? 'x_' : key;
    return (e) => {
      if (where === '') return { ...e, [key]: 1 };
      if (where === 'inputs') return { ...e, inputs: [{ ...e.inputs[0]!, [nestedKey]: 1 }] };
      return { ...e, [where]: { ...e[where], [nestedKey]: 1 } };
    };
  }),
  badDateTime.map((eventTime): Spoil => (e) => ({ ...e, eventTime })),
  withNul.map((text): Spoil => (e) => withOutputFacets(e, { note: { text } })),
  fc.constantFrom(...wrongFieldTypes).map(([key, value]): Spoil => (e) => ({ ...e, [key]: value })),
  fc.constant<Spoil>((e) => withOutputFacets(e, Object.fromEntries(Array.from({ length: 18 }, (_, i) => [`pad${i}`, { text: 'p'.repeat(60_000) }])))),
);

function hostileLineage(): fc.Arbitrary<BadRequest>[] {
  return [
    fc.tuple(api, lineageEvent, hostility).map(([prefix, event, spoil]) => bad('hostile lineage event')(post(`${prefix}/lineage`, spoil(event)))),
    fc.tuple(api, lineageEvent, lineageEvent, hostility, fc.boolean()).map(([prefix, fresh, event, spoil, ndjson]) => {
      const events = [fresh, spoil(event)];
      const body = ndjson ? `${events.map((e) => JSON.stringify(e)).join('\n')}\n` : events;
      return bad('hostile lineage batch')(post(`${prefix}/lineage/batch`, body, ndjson ? NDJSON_TYPE : JSON_TYPE));
    }),
  ];
}

function rawBytes(): fc.Arbitrary<BadRequest>[] {
  const method = fc.stringMatching(/^[A-Z]{1,10}$/).filter((m) => m !== 'HEAD');
  const pathCharacter = fc.constantFrom(...'abc/%?=&#\u0000\u0001\u0007\t "<>\\^`{|}~\u007f'.split(''));
  const target = fc.string({ unit: pathCharacter, maxLength: 20 }).map((t) => `/zz${t}`);
  const close = 'Connection: close\r\n\r\n';
  const chunked = 'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n';
  return [
    fc.tuple(method, target).map(([m, path]) => ({ kind: 'raw request line', raw: `${m} ${path} HTTP/1.1\r\nHost: x\r\n${close}` })),
    fc.tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.constantFrom('(', ')', ',', ';', '@', '"', ' ', '\u0001')).map(([name, character]) => {
      return { kind: 'raw bad header', raw: `GET /health HTTP/1.1\r\nHost: x\r\n${name}${character}x: 1\r\n${close}` };
    }),
    fc.integer({ min: 17_000, max: 40_000 }).map((size) => {
      return { kind: 'raw huge header', raw: `GET /health HTTP/1.1\r\nHost: x\r\nX-Filler: ${'h'.repeat(size)}\r\n${close}` };
    }),
    fc.constantFrom('9.9', 'x', '11', '1.1x').map((version) => ({ kind: 'raw bad version', raw: `GET /health HTTP/${version}\r\nHost: x\r\n\r\n` })),
    fc.stringMatching(/^[g-z]{1,4}$/).map((size) => {
      return { kind: 'raw bad chunk', raw: `POST /api/v1/lineage HTTP/1.1\r\nHost: x\r\n${chunked}${close}${size}\r\n{}\r\n0\r\n\r\n` };
    }),
  ];
}

/** Every kind of bad request, about evenly. */
export function badRequests(context: CorpusContext): fc.Arbitrary<BadRequest> {
  return fc.oneof(...jsonBodies(context), ...urls(), ...methodsAndTypes(), ...hostileLineage(), ...rawBytes());
}
