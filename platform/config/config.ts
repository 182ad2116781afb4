/**
 * Configuration, read once. This is the only module that reads `process.env`:
 * everything else receives a typed `Config`. A bad value fails at start-up with
 * an error naming the variable.
 */
import path from 'node:path';
import { AllowlistSyntaxError, parseAllowlist, type AddressAllowlist } from '../../common/address-policy.ts';
import { parseDuration } from '../../common/duration.ts';
import { NoetlError } from '../../common/errors.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Config {
  /** Working directory for embedded data: database, artifacts. */
  home: string;
  /** Folder holding `domains/<domain>/`. */
  domainsDir: string;
  artifactsDir: string;
  /** A Postgres URL, or undefined for the embedded database under `home`. */
  databaseUrl: string | undefined;
  /** A NATS URL, or undefined for the in-process bus. */
  natsUrl: string | undefined;
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
  { name: 'NOETL_NATS_URL', meaning: 'NATS URL with JetStream; unset = in-process bus', default: '(in-process)' },
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
  return {
    home,
    domainsDir: path.resolve(cwd, get('NOETL_DOMAINS_DIR') ?? 'domains'),
    artifactsDir: path.resolve(cwd, get('NOETL_ARTIFACTS_DIR') ?? path.join(home, 'artifacts')),
    databaseUrl: url('NOETL_DATABASE_URL', get('NOETL_DATABASE_URL'), ['postgres:', 'postgresql:']),
    natsUrl: url('NOETL_NATS_URL', get('NOETL_NATS_URL'), ['nats:', 'tls:']),
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
    secrets: secretsOf(env),
    httpAllow: allowlist('NOETL_HTTP_ALLOW', get('NOETL_HTTP_ALLOW')),
  };
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

function fail(name: string, value: string, expected: string): never {
  throw new NoetlError('E_CONFIG_INVALID', `${name}=${JSON.stringify(redactUrl(value))} is invalid: expected ${expected}`, { details: { variable: name } });
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

function url(name: string, raw: string | undefined, protocols: string[]): string | undefined {
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    return fail(name, raw, `a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  if (!protocols.includes(parsed.protocol)) fail(name, raw, `a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);
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
