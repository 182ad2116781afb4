/**
 * A small structured logger: one JSON line per record on stderr, levels, and
 * redaction of every registered secret value, in any form it travels in
 * (common/secret-redaction.ts), so a credential that reaches a log line by
 * accident, even base64-encoded or inside a URL, prints as `***`.
 */
import { secretRedactor, type Redactor } from '../../common/secret-redaction.ts';
import type { LogLevel } from '../config/config.ts';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  level: LogLevel;
  write?: (line: string) => void;
  /** Every secret value of the process: none of them reaches a line, in any encoding. */
  secrets?: Set<string>;
}

export function createLogger(options: LoggerOptions, base: Record<string, unknown> = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  return logger(options.level, write, secretRedactor(options.secrets ?? []), base);
}

function logger(level: LogLevel, write: (line: string) => void, redactor: Redactor, base: Record<string, unknown>): Logger {
  // Strings and keys are redacted as they are written, before JSON escapes them once more.
  const replacer = (key: string, value: unknown): unknown => {
    const safe = jsonSafe(key, value);
    if (redactor.empty) return safe;
    if (typeof safe === 'string' || typeof safe === 'number') return redactor.value(safe);
    if (safe !== null && typeof safe === 'object' && !Array.isArray(safe)) {
      return Object.fromEntries(Object.entries(safe).map(([name, item]) => [redactor.text(name), item]));
    }
    return safe;
  };
  const emit = (at: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[at] < ORDER[level]) return;
    write(JSON.stringify({ t: new Date().toISOString(), level: at, msg, ...base, ...fields }, replacer));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => logger(level, write, redactor, { ...base, ...fields }),
  };
}

const recent = new Map<string, Redactor>();

/** Replaces every occurrence of each secret in `text`, in any form it travels in, with `***`. */
export function redact(text: string, secrets: Iterable<string>): string {
  const values = [...secrets];
  const key = JSON.stringify(values);
  let redactor = recent.get(key);
  if (redactor === undefined) {
    redactor = secretRedactor(values);
    // Callers pass the same few sets of secrets again and again: keep the last few redactors.
    if (recent.size >= 16) recent.delete(recent.keys().next().value!);
    recent.set(key, redactor);
  }
  return redactor.text(text);
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}
