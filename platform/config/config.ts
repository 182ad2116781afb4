/**
 * Configuration, read once. This is the only module that reads `process.env`:
 * everything else receives a typed `Config`. A bad value fails at start-up with
 * an error naming the variable.
 */
import path from 'node:path';
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
] as const;

type Env = Record<string, string | undefined>;

/** Reads and validates the configuration from an environment (default: the process's). */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const home = path.resolve(cwd, get('NOETL_HOME') ?? '.noetl');
  return {
    home,
    domainsDir: path.resolve(cwd, get('NOETL_DOMAINS_DIR') ?? 'domains'),
    artifactsDir: path.resolve(cwd, get('NOETL_ARTIFACTS_DIR') ?? path.join(home, 'artifacts')),
    databaseUrl: url('NOETL_DATABASE_URL', get('NOETL_DATABASE_URL'), ['postgres:', 'postgresql:']),
    natsUrl: url('NOETL_NATS_URL', get('NOETL_NATS_URL'), ['nats:', 'tls:']),
    host: get('NOETL_HOST') ?? '127.0.0.1',
    port: integer('NOETL_PORT', get('NOETL_PORT'), 8080, 0, 65535),
    logLevel: oneOf('NOETL_LOG_LEVEL', get('NOETL_LOG_LEVEL'), ['debug', 'info', 'warn', 'error'] as const, 'info'),
    workerConcurrency: integer('NOETL_WORKER_CONCURRENCY', get('NOETL_WORKER_CONCURRENCY'), 2, 1, 256),
  };
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
