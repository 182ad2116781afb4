/**
 * Configuration, read once. This is the only module that reads `process.env`:
 * everything else receives a typed `Config`. A bad value fails at start-up with
 * an error naming the variable.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AllowlistSyntaxError, parseAllowlist, type AddressAllowlist } from '../../common/address-policy.ts';
import { parseDuration } from '../../common/duration.ts';
import { NoetlError } from '../../common/errors.ts';
import { DEFAULT_DEPLOYMENT, DEPLOYMENT_NAME_RULE, isDeploymentName } from '../bus/deployment-names.ts';
import { splitNatsUrl, type NatsCredentials } from '../bus/nats-connection.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** How python steps are isolated: a bubblewrap sandbox per step, or none (a trusted single-user machine only). */
export type PythonSandboxMode = 'bwrap' | 'none';

export interface Config {
  /** Working directory for embedded data: database, artifacts. */
  home: string;
  /** Folder holding `domains/<domain>/`. */
  domainsDir: string;
  artifactsDir: string;
  /** A Postgres URL, or undefined for the embedded database under `home`. */
  databaseUrl: string | undefined;
  /** A NATS URL without credentials (safe to print), or undefined for the in-process bus. */
  natsUrl: string | undefined;
  /** How to authenticate to NATS: from the URL or the NOETL_NATS_* variables, one way at most, plus TLS. */
  natsCredentials: NatsCredentials;
  /** The deployment's name on NATS: its subjects, streams and inboxes carry it. */
  deployment: string;
  host: string;
  port: number;
  logLevel: LogLevel;
  workerConcurrency: number;
  /** Where `noetl run --server`, `status`, `cancel` and `logs` find the registry. */
  serverUrl: string;
  pools: PoolSpec[];
  maxInFlightPerExecution: number;
  ackWaitMs: number;
  maxDeliver: number;
  /** Where OpenLineage events also go: an http(s) URL, `file:<path>`, `bus`. */
  lineageTransports: string[];
  /** Staged artifacts of an execution untouched for this long are removed. */
  stagingMaxAgeMs: number;
  /** The python3 the python tool runs. */
  python: string;
  /** How python steps are isolated (NOETL_PYTHON_SANDBOX). */
  pythonSandbox: PythonSandboxMode;
  /** The credentials this process can hand to steps, by `<domain>/<name>` (from NOETL_SECRET_<DOMAIN>__<NAME>). */
  secrets: Record<string, string>;
  /** Loopback, private and link-local addresses the http tool may reach (it refuses them otherwise). */
  httpAllow: AddressAllowlist;
}

export interface PoolSpec {
  name: string;
  labels: string[];
  maxInFlight: number;
}

/** One row per variable: name, meaning and default. The README's table mirrors it (a test checks). */
export const CONFIG_VARIABLES = [
  { name: 'NOETL_HOME', meaning: 'folder for embedded data (database, artifacts)', default: '.noetl' },
  { name: 'NOETL_DOMAINS_DIR', meaning: 'folder holding domains/<domain>/', default: 'domains' },
  { name: 'NOETL_ARTIFACTS_DIR', meaning: 'root of the local artifact store', default: '$NOETL_HOME/artifacts' },
  { name: 'NOETL_DATABASE_URL', meaning: 'PostgreSQL URL; unset = embedded PGlite under $NOETL_HOME/db', default: '(embedded)' },
  { name: 'NOETL_NATS_URL', meaning: 'NATS URL with JetStream (user:password@ or token@ in it authenticate); unset = in-process bus', default: '(in-process)' },
  { name: 'NOETL_DEPLOYMENT', meaning: 'name of this deployment on NATS, in its subjects, streams and inboxes; deployments sharing a nats-server need different names', default: 'noetl' },
  { name: 'NOETL_NATS_USER', meaning: 'NATS user, with NOETL_NATS_PASSWORD', default: '(none)' },
  { name: 'NOETL_NATS_PASSWORD', meaning: 'password of NOETL_NATS_USER', default: '(none)' },
  { name: 'NOETL_NATS_TOKEN', meaning: 'NATS authentication token', default: '(none)' },
  { name: 'NOETL_NATS_NKEY_FILE', meaning: 'file holding the nkey user seed (SU...) to authenticate to NATS with', default: '(none)' },
  { name: 'NOETL_NATS_CREDS_FILE', meaning: 'NATS .creds file (user JWT and seed) to authenticate with', default: '(none)' },
  { name: 'NOETL_NATS_TLS_CA', meaning: 'PEM file of the CA that signed the NATS server certificate; any NOETL_NATS_TLS_* (or a tls:// URL) requires TLS', default: '(none)' },
  { name: 'NOETL_NATS_TLS_CERT', meaning: 'PEM client certificate, for a NATS server that verifies clients (with NOETL_NATS_TLS_KEY)', default: '(none)' },
  { name: 'NOETL_NATS_TLS_KEY', meaning: 'PEM private key of NOETL_NATS_TLS_CERT', default: '(none)' },
  { name: 'NOETL_HOST', meaning: 'address the registry listens on', default: '127.0.0.1' },
  { name: 'NOETL_PORT', meaning: 'port the registry listens on', default: '8080' },
  { name: 'NOETL_LOG_LEVEL', meaning: 'debug, info, warn or error', default: 'info' },
  { name: 'NOETL_WORKER_CONCURRENCY', meaning: 'steps a worker runs at once', default: '2' },
  { name: 'NOETL_SERVER_URL', meaning: 'registry URL for run --server, status, cancel, logs', default: 'http://127.0.0.1:$NOETL_PORT' },
  { name: 'NOETL_POOLS', meaning: 'worker pools as name:label,label@max;… (max = steps in flight)', default: 'default:cpu@64' },
  { name: 'NOETL_MAX_IN_FLIGHT', meaning: 'steps of one execution in flight at once', default: '64' },
  { name: 'NOETL_ACK_WAIT_MS', meaning: 'ack deadline of a command; a lost worker\'s step comes back after it', default: '30000' },
  { name: 'NOETL_MAX_DELIVER', meaning: 'deliveries of a command before it is a dead letter', default: '10' },
  { name: 'NOETL_SECRET_<DOMAIN>__<NAME>', meaning: 'a credential a worker hands to steps of that domain that name it in their keychain', default: '(none)' },
  { name: 'NOETL_STAGING_MAX_AGE', meaning: 'staged (unpublished) artifacts of an execution untouched this long are removed by the workers', default: '24h' },
  { name: 'NOETL_PYTHON', meaning: 'the python3 executable workers run python steps with', default: 'python3' },
  {
    name: 'NOETL_PYTHON_SANDBOX',
    meaning: 'how python steps are isolated: bwrap (each step in a bubblewrap sandbox) or none (unsandboxed: only on a trusted single-user machine)',
    default: 'bwrap',
  },
  { name: 'NOETL_HTTP_ALLOW', meaning: 'loopback, private and link-local addresses the http tool may reach, comma-separated: networks (10.0.0.0/8), addresses with an optional port (127.0.0.1:8099, [::1]) or host names (localhost:8099)', default: '(none)' },
  { name: 'NOETL_LINEAGE_TRANSPORTS', meaning: 'where OpenLineage events also go, comma-separated: an http(s) URL, file:<path>, bus', default: '(none)' },
] as const;

type Env = Record<string, string | undefined>;

/** Reads and validates the configuration from an environment (default: the process's). */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const home = path.resolve(cwd, get('NOETL_HOME') ?? '.noetl');
  const port = integer('NOETL_PORT', get('NOETL_PORT'), 8080, 0, 65535);
  const nats = natsSettings(get, cwd);
  return {
    home,
    domainsDir: path.resolve(cwd, get('NOETL_DOMAINS_DIR') ?? 'domains'),
    artifactsDir: path.resolve(cwd, get('NOETL_ARTIFACTS_DIR') ?? path.join(home, 'artifacts')),
    databaseUrl: url('NOETL_DATABASE_URL', get('NOETL_DATABASE_URL'), ['postgres:', 'postgresql:']),
    natsUrl: nats.url,
    natsCredentials: nats.credentials,
    deployment: deployment(get('NOETL_DEPLOYMENT')),
    host: get('NOETL_HOST') ?? '127.0.0.1',
    port,
    logLevel: oneOf('NOETL_LOG_LEVEL', get('NOETL_LOG_LEVEL'), ['debug', 'info', 'warn', 'error'] as const, 'info'),
    workerConcurrency: integer('NOETL_WORKER_CONCURRENCY', get('NOETL_WORKER_CONCURRENCY'), 2, 1, 256),
    serverUrl: url('NOETL_SERVER_URL', get('NOETL_SERVER_URL'), ['http:', 'https:']) ?? `http://127.0.0.1:${port}`,
    pools: pools(get('NOETL_POOLS') ?? 'default:cpu@64'),
    maxInFlightPerExecution: integer('NOETL_MAX_IN_FLIGHT', get('NOETL_MAX_IN_FLIGHT'), 64, 1, 100_000),
    ackWaitMs: integer('NOETL_ACK_WAIT_MS', get('NOETL_ACK_WAIT_MS'), 30_000, 100, 3_600_000),
    maxDeliver: integer('NOETL_MAX_DELIVER', get('NOETL_MAX_DELIVER'), 10, 1, 1000),
    lineageTransports: (get('NOETL_LINEAGE_TRANSPORTS') ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    stagingMaxAgeMs: duration('NOETL_STAGING_MAX_AGE', get('NOETL_STAGING_MAX_AGE'), 24 * 3_600_000),
    python: get('NOETL_PYTHON') ?? 'python3',
    pythonSandbox: oneOf('NOETL_PYTHON_SANDBOX', get('NOETL_PYTHON_SANDBOX'), ['bwrap', 'none'] as const, 'bwrap'),
    secrets: secretsOf(env),
    httpAllow: allowlist('NOETL_HTTP_ALLOW', get('NOETL_HTTP_ALLOW')),
  };
}

function deployment(raw: string | undefined): string {
  if (raw === undefined) return DEFAULT_DEPLOYMENT;
  if (!isDeploymentName(raw)) fail('NOETL_DEPLOYMENT', raw, DEPLOYMENT_NAME_RULE);
  return raw;
}

interface NatsSettings {
  url: string | undefined;
  credentials: NatsCredentials;
}

/**
 * The NATS URL (credentials split off) and how to authenticate: one way at most
 * among the URL's, user and password, token, nkey seed file and .creds file,
 * plus TLS files. Secret values never appear in an error.
 */
function natsSettings(get: (name: string) => string | undefined, cwd: string): NatsSettings {
  const raw = url('NOETL_NATS_URL', get('NOETL_NATS_URL'), ['nats:', 'tls:'], (v) => v.replace(/\/\/[^/@]*@/, '//***@'));
  const fromUrl: NatsSettings = raw === undefined ? { url: undefined, credentials: {} } : splitNatsUrl(raw);
  const { tls: urlWantsTls, ...urlAuth } = fromUrl.credentials;
  const user = get('NOETL_NATS_USER');
  const password = get('NOETL_NATS_PASSWORD');
  const token = get('NOETL_NATS_TOKEN');
  pair('NOETL_NATS_USER', user, 'NOETL_NATS_PASSWORD', password);
  const nkeySeed = readFile('NOETL_NATS_NKEY_FILE', get('NOETL_NATS_NKEY_FILE'), cwd)?.trim();
  if (nkeySeed !== undefined && !/^SU[A-Z2-7]{50,}$/.test(nkeySeed)) {
    failQuietly('NOETL_NATS_NKEY_FILE', 'the file must hold an nkey user seed (one line starting with SU)');
  }
  const creds = readFile('NOETL_NATS_CREDS_FILE', get('NOETL_NATS_CREDS_FILE'), cwd);
  const credsParts = ['-----BEGIN NATS USER JWT-----', '-----BEGIN USER NKEY SEED-----'];
  if (creds !== undefined && !credsParts.every((part) => creds.includes(part))) {
    failQuietly('NOETL_NATS_CREDS_FILE', 'the file must be a NATS .creds file (a user JWT and a user nkey seed)');
  }
  const ways: { variable: string; auth: NatsCredentials | undefined }[] = [
    { variable: 'NOETL_NATS_URL', auth: Object.keys(urlAuth).length > 0 ? urlAuth : undefined },
    { variable: 'NOETL_NATS_USER', auth: user !== undefined && password !== undefined ? { user, password } : undefined },
    { variable: 'NOETL_NATS_TOKEN', auth: token !== undefined ? { token } : undefined },
    { variable: 'NOETL_NATS_NKEY_FILE', auth: nkeySeed !== undefined ? { nkeySeed } : undefined },
    { variable: 'NOETL_NATS_CREDS_FILE', auth: creds !== undefined ? { creds } : undefined },
  ];
  const given = ways.filter((w) => w.auth !== undefined);
  if (given.length > 1) {
    failQuietly(given[1]!.variable, `give NATS one way to authenticate, not several: ${given.map((w) => w.variable).join(' and ')} are all set`);
  }
  const caFile = readableFile('NOETL_NATS_TLS_CA', get('NOETL_NATS_TLS_CA'), cwd);
  const certFile = readableFile('NOETL_NATS_TLS_CERT', get('NOETL_NATS_TLS_CERT'), cwd);
  const keyFile = readableFile('NOETL_NATS_TLS_KEY', get('NOETL_NATS_TLS_KEY'), cwd);
  pair('NOETL_NATS_TLS_CERT', certFile, 'NOETL_NATS_TLS_KEY', keyFile);
  const files = { ...(caFile ? { caFile } : {}), ...(certFile ? { certFile } : {}), ...(keyFile ? { keyFile } : {}) };
  const tls = urlWantsTls !== undefined || Object.keys(files).length > 0 ? { tls: files } : {};
  return { url: fromUrl.url, credentials: { ...given[0]?.auth, ...tls } };
}

/** Two variables that only make sense together. */
function pair(first: string, firstValue: string | undefined, second: string, secondValue: string | undefined): void {
  if ((firstValue === undefined) === (secondValue === undefined)) return;
  failQuietly(firstValue === undefined ? second : first, `${first} and ${second} go together: set both or neither`);
}

function readFile(name: string, at: string | undefined, cwd: string): string | undefined {
  if (at === undefined) return undefined;
  try {
    return fs.readFileSync(path.resolve(cwd, at), 'utf8');
  } catch (e) {
    return fail(name, at, `a readable file (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
}

function readableFile(name: string, at: string | undefined, cwd: string): string | undefined {
  if (at === undefined) return undefined;
  const resolved = path.resolve(cwd, at);
  try {
    fs.accessSync(resolved, fs.constants.R_OK);
    if (!fs.statSync(resolved).isFile()) fail(name, at, 'a readable file, not a folder');
  } catch (e) {
    if (e instanceof NoetlError) throw e;
    fail(name, at, `a readable file (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  return resolved;
}

/** `NOETL_SECRET_RISK__WAREHOUSE=postgres://…` → `{ 'risk/warehouse': 'postgres://…' }`. */
function secretsOf(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    const m = /^NOETL_SECRET_([A-Z][A-Z0-9_]*?)__([A-Z][A-Z0-9_]*)$/.exec(k);
    if (!m || v === undefined || v === '') continue;
    out[`${m[1]!.toLowerCase()}/${m[2]!.toLowerCase()}`] = v;
  }
  return out;
}

/** `default:cpu@64;gpu:gpu,highmem@4` → pools; the `@max` part is optional (64). */
function pools(raw: string): PoolSpec[] {
  const out: PoolSpec[] = [];
  for (const part of raw.split(';').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z][a-z0-9_-]*)(?::([a-z0-9_,-]*))?(?:@(\d+))?$/.exec(part);
    if (!m || out.some((p) => p.name === m[1])) fail('NOETL_POOLS', raw, 'name:label,label@max entries separated by ";", each name once (e.g. default:cpu@64;gpu:gpu,highmem@4)');
    out.push({ name: m[1]!, labels: (m[2] ?? '').split(',').filter(Boolean), maxInFlight: m[3] === undefined ? 64 : Math.max(1, Number(m[3])) });
  }
  if (out.length === 0) fail('NOETL_POOLS', raw, 'at least one pool');
  return out;
}

function fail(name: string, value: string, expected: string, shown: (value: string) => string = redactUrl): never {
  throw new NoetlError('E_CONFIG_INVALID', `${name}=${JSON.stringify(shown(value))} is invalid: expected ${expected}`, { details: { variable: name } });
}

/** For a variable whose value may be a secret: the error names it and never shows the value. */
function failQuietly(name: string, problem: string): never {
  throw new NoetlError('E_CONFIG_INVALID', `${name} is invalid: ${problem}`, { details: { variable: name } });
}

function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) fail(name, raw, `an integer from ${min} to ${max}`);
  const n = Number(raw);
  if (n < min || n > max) fail(name, raw, `an integer from ${min} to ${max}`);
  return n;
}

function duration(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const ms = parseDuration(raw);
  if (ms === undefined || ms <= 0) fail(name, raw, 'a duration such as 30m, 24h or 500ms');
  return ms;
}

function allowlist(name: string, raw: string | undefined): AddressAllowlist {
  try {
    return parseAllowlist(raw ?? '');
  } catch (e) {
    if (!(e instanceof AllowlistSyntaxError)) throw e;
    return fail(name, raw!, `comma-separated networks (10.0.0.0/8), addresses (127.0.0.1, [::1]:8080) or host names (localhost:8099); ${e.message}`);
  }
}

function oneOf<T extends string>(name: string, raw: string | undefined, allowed: readonly T[], fallback: T): T {
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) fail(name, raw, `one of ${allowed.join(', ')}`);
  return raw as T;
}

function url(name: string, raw: string | undefined, protocols: string[], shown: (value: string) => string = redactUrl): string | undefined {
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    return fail(name, raw, `a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`, shown);
  }
  if (!protocols.includes(parsed.protocol)) fail(name, raw, `a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`, shown);
  return raw;
}

/** A URL with its password replaced, safe to print. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return raw.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}
