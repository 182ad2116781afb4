/**
 * Secret redaction. A secret rarely leaks as itself: an API echoes
 * `Basic base64(user:password)`, a driver prints the password of a connection
 * URL, a JSON body escapes it, a query string percent-encodes it. So a
 * redactor is built once from the secret values a process holds and finds, in
 * any text, every secret in each of the forms it travels in, replacing each
 * with `***`:
 *
 *   - the value itself, and any mix of its characters percent-encoded (upper
 *     or lower hex: `encodeURIComponent`, form encoding with `+` for a space,
 *     a URL's userinfo) or JSON-escaped (`\"`, `\/`, `\u00e9`, and escaped
 *     twice, as a JSON text inside a JSON string or a log line);
 *   - base64, standard and URL-safe, with or without padding, also inside a
 *     longer base64 string (`base64("user:" + password)`): for each of the
 *     three byte alignments, the characters that the secret's bytes alone
 *     decide, with the partly decided character on each side;
 *   - hex of its UTF-8 bytes, either case;
 *   - and the same for the pieces a secret is made of: the password of a URL
 *     such as `postgres://user:pass@host/db` (or, without one, a user name long
 *     enough to be a token: `https://<token>@host`),
 *     raw and decoded; the password of a `user:password` basic credential; a
 *     `password=` of a keyword connection string or a URL's query.
 *
 * What is too short to mean anything is left alone, so redaction does not
 * shred ordinary text: a secret or piece of fewer than MIN_SECRET_LENGTH
 * characters is ignored, and a base64 form needs at least MIN_BASE64_LENGTH
 * characters decided by the secret alone (so base64 forms apply from 5 bytes).
 *
 * Cost: every form is one sticky regular expression; an index by the two
 * characters a form can start with picks, at each position of a text, the few
 * forms worth trying, so a scan costs about an array look-up per character however
 * many secrets there are (bench/redaction.ts). Pure: no I/O.
 */

export const REDACTED = '***';
/** Secrets (and pieces of secrets) shorter than this, in characters, are not redacted. */
export const MIN_SECRET_LENGTH = 4;
/** A base64 form is looked for only when the secret alone decides at least this many of its characters. */
export const MIN_BASE64_LENGTH = 6;
/** The user name of a URL without a password is taken for a token from this length on. */
export const MIN_TOKEN_USER_LENGTH = 16;

export interface Redactor {
  /** True when there is nothing to redact: every call returns its input. */
  readonly empty: boolean;
  /** The text with every form of every secret replaced by `***`. */
  text(text: string): string;
  /** A copy of a JSON-like value with its strings, object keys and numbers redacted. */
  value<T>(value: T): T;
}

/** A redactor for these secret values, built once. */
export function secretRedactor(secrets: Iterable<string>): Redactor {
  const index: Index = { slots: new Int32Array(65_536).fill(-1), groups: [] };
  const sources = new Set<string>();
  for (const secret of secrets) {
    for (const piece of secretPieces(secret)) {
      for (const form of formsOf(piece)) {
        const source = form.units.map(unitSource).join('');
        if (sources.has(`${form.before ?? ''} ${source}`)) continue;
        sources.add(`${form.before ?? ''} ${source}`);
        const pattern = { regex: new RegExp(source, 'y'), before: form.before };
        for (const start of starts(form.units, 0, 2)) {
          const key = pairKey(start, 0);
          if (index.slots[key] === -1) index.slots[key] = index.groups.push([]) - 1;
          const group = index.groups[index.slots[key]!]!;
          if (group.at(-1) !== pattern) group.push(pattern);
        }
      }
    }
  }
  const empty = sources.size === 0;
  // No form is shorter than MIN_SECRET_LENGTH characters.
  const text = (input: string): string => (empty || input.length < MIN_SECRET_LENGTH ? input : redactText(input, index));
  const value = <T>(input: T): T => (empty ? input : (redactValue(input, text) as T));
  return { empty, text, value };
}

/**
 * The secret and the pieces of it that are secret on their own, each long
 * enough to redact: a URL's password (as written and decoded) or, without a
 * password, a user name long enough to be a token; a basic credential's
 * password; a `password=` value.
 */
export function secretPieces(secret: string): string[] {
  const pieces = new Set<string>([secret]);
  const add = (piece: string | undefined): void => {
    if (piece === undefined) return;
    pieces.add(piece);
    pieces.add(decoded(piece));
  };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(secret)) {
    const url = parsedUrl(secret);
    if (url !== undefined) {
      if (url.password !== '') add(url.password);
      // A long user name without a password is a token (`https://<token>@host`); a short one is a name (`postgres`).
      else if (url.username.length >= MIN_TOKEN_USER_LENGTH) add(url.username);
      for (const name of SECRET_QUERY_PARAMETERS) add(url.searchParams.get(name) ?? undefined);
    } else {
      // A password the URL parser cannot read (an unescaped '/' or '#'): everything up to the last '@'.
      add(/^[a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:(.*)@[^@]*$/is.exec(secret)?.[1]);
    }
  } else if (secret.includes(':')) {
    add(secret.slice(secret.indexOf(':') + 1));
  }
  for (const match of secret.matchAll(KEYWORD_PASSWORD)) add(match[1] ?? match[2]);
  return [...pieces].filter((p) => [...p].length >= MIN_SECRET_LENGTH);
}

/**
 * Forms by the two characters they can start with, hashed to 16 bits (a
 * plain array look-up per position): pairs of ASCII characters each have a
 * slot of their own; others may share one, which costs a failed test, never a
 * missed form.
 */
interface Index {
  /** Pair hash → position in `groups`, or -1. */
  slots: Int32Array;
  groups: Pattern[][];
}

/** A form to look for: a sticky expression, and characters that belong to the match when just before it. */
interface Pattern {
  regex: RegExp;
  before: string | undefined;
}

/** Query parameters of a URL that hold a secret of their own. */
const SECRET_QUERY_PARAMETERS = ['password', 'pass', 'pwd', 'token', 'access_token', 'secret'];
/** `password=value` or `password='quoted value'` in a keyword connection string (libpq) or a query. */
const KEYWORD_PASSWORD = /(?:^|[\s;&?])(?:password|pwd)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|([^\s;&]+))/gi;

/** A unit is a set of literal alternatives, `''` making it optional. */
type Unit = readonly string[];

/** A sequence of units, and the characters that, just before them, are part of the form too. */
interface Form {
  units: readonly Unit[];
  before?: string;
}

/** Every form a piece travels in. */
function formsOf(piece: string): Form[] {
  const bytes = new TextEncoder().encode(piece);
  const forms: Form[] = [{ units: [...piece].map(characterForms) }];
  for (const alphabet of ['standard', 'url'] as const) forms.push(...base64Forms(bytes, alphabet));
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  forms.push({ units: [distinct([hex, hex.toUpperCase()])] });
  return forms;
}

/** One character, as itself, percent-encoded, form-encoded or JSON-escaped (once or twice). */
function characterForms(character: string): Unit {
  const bytes = [...new TextEncoder().encode(character)];
  const percent = (upper: boolean): string => bytes.map((b) => `%${hex2(b, upper)}`).join('');
  const codeUnits = Array.from({ length: character.length }, (_, i) => character.charCodeAt(i));
  const unicode = (upper: boolean): string =>
    codeUnits.map((unit) => `\\u${upper ? hex4(unit).toUpperCase() : hex4(unit)}`).join('');
  const once = [character, percent(true), percent(false), unicode(false), unicode(true)];
  const escaped = JSON.stringify(character).slice(1, -1);
  if (escaped !== character) once.push(escaped);
  if (character === '/') once.push('\\/');
  if (character === ' ') once.push('+');
  // Escaped twice: a JSON text inside a JSON string (an error that quotes a JSON body, in a log line).
  const twice = once.filter((form) => form.includes('\\')).map((form) => JSON.stringify(form).slice(1, -1));
  return distinct([...once, ...twice]);
}

/**
 * The base64 forms of some bytes at each of the three alignments they can have
 * inside longer data: the characters the bytes alone decide, and, optionally,
 * the character on each side they share with the bytes around them.
 */
function base64Forms(bytes: Uint8Array, alphabet: 'standard' | 'url'): Form[] {
  const digits = BASE64_DIGITS + (alphabet === 'url' ? '-_' : '+/');
  const forms: Form[] = [];
  for (let alignment = 0; alignment < 3; alignment++) {
    const start = Math.ceil((8 * alignment) / 6);
    const end = Math.floor((8 * (alignment + bytes.length)) / 6);
    if (end - start < MIN_BASE64_LENGTH) continue;
    const aligned = new Uint8Array(alignment + bytes.length);
    aligned.set(bytes, alignment);
    let core = Buffer.from(aligned).toString('base64').slice(start, end);
    if (alphabet === 'url') core = core.replace(/\+/g, '-').replace(/\//g, '_');
    // A shared character: `known` bits from the secret, the rest any value the neighbouring byte gives.
    const shared = (known: number, bits: number, knownHigh: boolean): string => {
      const unknown = 6 - known;
      const digit = (value: number): string => digits[knownHigh ? (bits << unknown) | value : (value << known) | bits]!;
      return Array.from({ length: 1 << unknown }, (_, value) => digit(value)).join('');
    };
    const leading = 8 * alignment - 6 * (start - 1);
    const before = alignment > 0 ? shared(6 - leading, bytes[0]! >> (8 - (6 - leading)), false) : undefined;
    const trailing = (8 * (alignment + bytes.length)) % 6;
    const after = trailing !== 0 ? ['', ...shared(trailing, bytes[bytes.length - 1]! & ((1 << trailing) - 1), true)] : undefined;
    // The shared character before is checked apart (not part of the expression), so that forms are indexed by their core.
    forms.push({ units: [[core], ...(after ? [after] : [])], ...(before ? { before } : {}) });
  }
  return forms;
}

const BASE64_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Finds every span some form matches (overlapping spans merged) and replaces each with `***`, until none is left. */
function redactText(input: string, index: Index): string {
  let text = input;
  // Each pass replaces spans of four characters or more with three, so this ends; a second pass is needed
  // only when a replacement makes a new match (a secret made of asterisks).
  for (;;) {
    const spans = matchedSpans(text, index);
    if (spans.length === 0) return text;
    let out = '';
    let from = 0;
    for (const [start, end] of spans) {
      out += text.slice(from, start) + REDACTED;
      from = end;
    }
    text = out + text.slice(from);
  }
}

function matchedSpans(text: string, index: Index): [number, number][] {
  const spans: [number, number][] = [];
  for (let at = 0; at + 1 < text.length; at++) {
    const slot = index.slots[pairKey(text, at)]!;
    if (slot === -1) continue;
    const group = index.groups[slot]!;
    let start = at;
    let end = at;
    for (const { regex, before } of group) {
      regex.lastIndex = at;
      if (!regex.test(text)) continue;
      end = Math.max(end, regex.lastIndex);
      if (before !== undefined && at > 0 && before.includes(text.charAt(at - 1))) start = at - 1;
    }
    if (end === at) continue;
    const last = spans.at(-1);
    if (last !== undefined && start <= last[1]) last[1] = Math.max(last[1], end);
    else spans.push([start, end]);
  }
  return spans;
}

function redactValue(value: unknown, text: (input: string) => string): unknown {
  if (typeof value === 'string') return text(value);
  if (typeof value === 'number' || typeof value === 'bigint') {
    const written = String(value);
    const redacted = text(written);
    return redacted === written ? value : redacted;
  }
  if (Array.isArray(value)) return value.map((item) => redactValue(item, text));
  if (value !== null && typeof value === 'object' && isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [text(key), redactValue(item, text)]));
  }
  return value;
}

function isPlainObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** The two-character strings a form can start with. */
function starts(form: readonly Unit[], from: number, length: number): string[] {
  if (length === 0) return [''];
  if (from >= form.length) return [];
  const out = new Set<string>();
  for (const alternative of form[from]!) {
    if (alternative.length >= length) out.add(alternative.slice(0, length));
    else for (const rest of starts(form, from + 1, length - alternative.length)) out.add(alternative + rest);
  }
  return [...out];
}

function unitSource(unit: Unit): string {
  const alternatives = unit.filter((a) => a !== '').sort((a, b) => b.length - a.length).map(escapeRegExp);
  const optional = unit.includes('');
  if (alternatives.length === 1 && !optional) return alternatives[0]!;
  return `(?:${alternatives.join('|')})${optional ? '?' : ''}`;
}

function pairKey(text: string, at: number): number {
  return ((text.charCodeAt(at) << 8) ^ text.charCodeAt(at + 1)) & 0xffff;
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

function hex4(codeUnit: number): string {
  return codeUnit.toString(16).padStart(4, '0');
}

function hex2(byte: number, upper: boolean): string {
  const text = byte.toString(16).padStart(2, '0');
  return upper ? text.toUpperCase() : text;
}

function distinct(values: string[]): string[] {
  return [...new Set(values)];
}

function parsedUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** Percent-decoded, or as it is when it does not decode. */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
