/**
 * Whatever a tool returns must fit in the event log. PostgreSQL refuses a NUL
 * character in text and in JSON (`unsupported Unicode escape sequence`), and a
 * lone UTF-16 surrogate is not text at all; one such character in a step's
 * output used to make every write of its execution fail, forever. Events are
 * made storable before they are written: each such character, in a value or a
 * key, becomes U+FFFD, the replacement character.
 */

const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text PostgreSQL can store: NUL and lone surrogates replaced. */
export function storableText(text: string): string {
  return text.replace(UNSTORABLE, '\uFFFD');
}

/** A JSON-like value whose every string and key PostgreSQL can store; the value itself when nothing needs replacing. */
export function storable<T>(value: T): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v: unknown) => {
      const s = storable(v);
      changed ||= s !== v;
      return s;
    });
    return (changed ? out : value) as T;
  }
  if (value !== null && typeof value === 'object') {
    let changed = false;
    const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => {
      const key = storableText(k);
      const s: unknown = storable(v);
      changed ||= key !== k || s !== v;
      return [key, s] as const;
    });
    return (changed ? Object.fromEntries(entries) : value) as T;
  }
  return value;
}
