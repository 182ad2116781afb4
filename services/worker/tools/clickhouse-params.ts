/**
 * `$1`, `$2`, ... in ClickHouse SQL bound to values as ClickHouse literals, on
 * the client: ClickHouse 18.16 takes no query parameters, and a value spliced by
 * a template could close its quote. Placeholders inside quoted strings,
 * quoted identifiers and comments are left alone.
 */
import { NoetlError } from '../../../common/errors.ts';

export function bindClickHouse(sql: string, values: readonly unknown[], step: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const skipped = skipQuotedOrComment(sql, i);
    if (skipped > i) {
      out += sql.slice(i, skipped);
      i = skipped;
      continue;
    }
    const m = c === '$' ? /^\$(\d+)/.exec(sql.slice(i)) : null;
    if (m) {
      const n = Number(m[1]);
      if (n < 1 || n > values.length) throw new NoetlError('E_PLAYBOOK_INVALID', `step "${step}": clickhouse SQL uses $${n} but params has ${values.length} value(s)`);
      out += literal(values[n - 1], step);
      i += m[0].length;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** The index just past a quoted string, quoted identifier or comment starting at `i`; `i` when none starts there. */
function skipQuotedOrComment(sql: string, i: number): number {
  const c = sql[i];
  if (c === "'" || c === '"' || c === '`') {
    let j = i + 1;
    while (j < sql.length) {
      if (sql[j] === '\\') j += 2;
      else if (sql[j] === c && sql[j + 1] === c) j += 2;
      else if (sql[j] === c) return j + 1;
      else j++;
    }
    return sql.length;
  }
  if (c === '-' && sql[i + 1] === '-') {
    const end = sql.indexOf('\n', i);
    return end < 0 ? sql.length : end;
  }
  if (c === '/' && sql[i + 1] === '*') {
    const end = sql.indexOf('*/', i + 2);
    return end < 0 ? sql.length : end + 2;
  }
  return i;
}

/** A value as a ClickHouse literal: strings quoted with backslash escapes, arrays as arrays. */
function literal(v: unknown, step: string): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new NoetlError('E_PLAYBOOK_INVALID', `step "${step}": clickhouse param ${String(v)} is not a finite number`);
    return String(v);
  }
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(v)) return `[${v.map((x) => literal(x, step)).join(', ')}]`;
  throw new NoetlError('E_PLAYBOOK_INVALID', `step "${step}": clickhouse params are numbers, strings, booleans, null or lists of them, not ${JSON.stringify(v)?.slice(0, 80)}`);
}
