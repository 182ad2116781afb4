/**
 * The http tool's requests, made so that a URL from a playbook or a workload
 * cannot turn a worker against its own network or leak its credentials:
 *
 *   - every hop (the first request and each redirect) resolves its host once,
 *     checks every address the name has against the address policy
 *     (common/address-policy.ts: loopback, private, link-local, ... only when
 *     NOETL_HTTP_ALLOW names them), then connects to the address it checked
 *     (a `lookup` that answers with it), so a name cannot resolve to another
 *     address between the check and the connection. A refused hop fails before
 *     any packet is sent to it;
 *   - a redirect to another origin (scheme, host or port) drops
 *     `Authorization`, `Proxy-Authorization` and `Cookie`; a 303 (and a 301 or
 *     302 after a POST) goes on as a GET without a body;
 *   - an answer larger than `maxBytes` (after decompression) is refused as soon
 *     as it is known to be, instead of filling memory.
 */
import dns from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import zlib from 'node:zlib';
import { refusedRange, type AddressAllowlist } from '../../../common/address-policy.ts';
import { NoetlError, type ErrorCode } from '../../../common/errors.ts';

export interface HttpRequest {
  method: string;
  url: URL;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string | undefined;
  timeoutMs: number;
  maxRedirects: number;
  maxBytes: number;
  allow: AddressAllowlist;
  signal: AbortSignal;
  /** The step, for messages. */
  step: string;
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie'];
const REDIRECTS = [301, 302, 303, 307, 308];

/** Sends a request, following at most `maxRedirects` redirects; the answer's body is read whole, up to `maxBytes`. */
export async function sendRequest(request: HttpRequest): Promise<HttpAnswer> {
  let { url, method, body } = request;
  let headers: Record<string, string> = { 'accept-encoding': 'gzip, deflate, br', ...request.headers };
  const without = (drop: (name: string) => boolean): Record<string, string> =>
    Object.fromEntries(Object.entries(headers).filter(([name]) => !drop(name)));
  for (let hops = 0; ; hops++) {
    const answer = await exchange(request, url, method, headers, body);
    const location = answer.headers.location;
    if (!REDIRECTS.includes(answer.status) || location === undefined) return answer;
    if (hops >= request.maxRedirects) {
      throw stepError(request, 'E_TOOL_FAILED', `more than ${request.maxRedirects} redirects from ${where(request.url)}`);
    }
    const next = new URL(location, url);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw stepError(request, 'E_TOOL_FAILED', `${where(url)} redirected to a ${next.protocol} URL; only http and https are followed`);
    }
    if (next.origin !== url.origin) headers = without((name) => CREDENTIAL_HEADERS.includes(name));
    // As browsers do: a 303 goes on as a GET (a HEAD stays), and so does a POST redirected by a 301 or 302.
    const asGet = answer.status === 303 ? method !== 'GET' && method !== 'HEAD' : answer.status <= 302 && method === 'POST';
    if (asGet) {
      method = 'GET';
      body = undefined;
      headers = without((name) => name.startsWith('content-'));
    }
    url = next;
  }
}

/** One hop: resolve and check the host, connect to the checked address, read the answer. */
async function exchange(
  request: HttpRequest,
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<HttpAnswer> {
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = AbortSignal.any([request.signal, timeout]);
  try {
    const target = await checkedAddress(request, url, signal);
    // Node connects to an IP literal without a lookup; a name is "looked up" to the address just checked.
    const lookup: LookupFunction = (_host, options, callback) => {
      if (options.all) callback(null, [target]);
      else callback(null, target.address, target.family);
    };
    const options: http.RequestOptions = {
      hostname: bare(url.hostname),
      port: port(url),
      path: `${url.pathname}${url.search}`,
      method,
      headers,
      lookup,
      agent: false,
      signal,
    };
    return await new Promise<HttpAnswer>((resolve, reject) => {
      let outgoing: http.ClientRequest;
      try {
        outgoing = (url.protocol === 'https:' ? https : http).request(options, (incoming) => {
          const answer = (read: Buffer): HttpAnswer => ({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: read });
          readCapped(incoming, request, url).then((read) => resolve(answer(read)), reject);
        });
      } catch (e) {
        // Node refuses a header value with a line break (header injection) before sending anything.
        throw stepError(request, 'E_PLAYBOOK_INVALID', `http request to ${where(url)} is invalid: ${(e as Error).message}`);
      }
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  } catch (e) {
    if (request.signal.aborted) throw request.signal.reason as Error;
    if (e instanceof NoetlError) throw e;
    if (timeout.aborted) throw stepError(request, 'E_STEP_TIMEOUT', `${method} ${where(url)} took longer than ${request.timeoutMs} ms`);
    throw stepError(request, 'E_TOOL_FAILED', `${method} ${where(url)} failed: ${(e as Error).message}`, e);
  }
}

/** The address a hop connects to, after every address of its host passed the policy. */
async function checkedAddress(request: HttpRequest, url: URL, signal: AbortSignal): Promise<{ address: string; family: number }> {
  const host = bare(url.hostname);
  const literal = /^[\d.]+$/.test(host) ? 4 : host.includes(':') ? 6 : 0;
  const addresses = literal !== 0
    ? [{ address: host, family: literal }]
    : await abortable(dns.lookup(host, { all: true, verbatim: true }), signal);
  if (addresses.length === 0) throw stepError(request, 'E_TOOL_FAILED', `${host} resolves to no address`);
  for (const { address } of addresses) {
    const range = refusedRange(request.allow, host, port(url), address);
    if (range === undefined) continue;
    const what = address === host ? `${host} is` : `${host} resolves to ${address}, which is`;
    const why = `${what} ${range}, and NOETL_HTTP_ALLOW does not name it`;
    throw stepError(request, 'E_HTTP_ADDRESS_REFUSED', `refused ${where(url)}: ${why}`);
  }
  return addresses[0]!;
}

/** The body, decompressed, refused once it is over `maxBytes`. */
async function readCapped(incoming: http.IncomingMessage, request: HttpRequest, url: URL): Promise<Buffer> {
  const tooLarge = (): NoetlError =>
    stepError(request, 'E_HTTP_TOO_LARGE', `${where(url)} answered more than max_bytes (${request.maxBytes} bytes)`);
  const decoder = decoderFor(String(incoming.headers['content-encoding'] ?? 'identity'));
  const declared = Number(incoming.headers['content-length']);
  if (decoder === undefined && Number.isFinite(declared) && declared > request.maxBytes) {
    incoming.destroy();
    throw tooLarge();
  }
  const stream = decoder === undefined ? incoming : incoming.pipe(decoder);
  if (decoder !== undefined) incoming.on('error', (e) => decoder.destroy(e));
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > request.maxBytes) throw tooLarge();
      chunks.push(chunk);
    }
  } finally {
    if (size > request.maxBytes) {
      incoming.destroy();
      decoder?.destroy();
    }
  }
  return Buffer.concat(chunks);
}

/** A decompressing stream for a Content-Encoding; none for identity, or an encoding it does not know (bytes as they are). */
function decoderFor(encoding: string): zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | undefined {
  switch (encoding.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      return undefined;
  }
}

function stepError(request: HttpRequest, code: ErrorCode, message: string, cause?: unknown): NoetlError {
  return new NoetlError(code, `step "${request.step}": ${message}`, cause === undefined ? {} : { cause });
}

function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A URL's host without the brackets of an IPv6 literal. */
function bare(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, '');
}

function port(url: URL): number {
  return url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

/** Origin and path, never the query (it may carry a key) nor user info. */
export function where(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
