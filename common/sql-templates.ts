/**
 * Templates inside SQL. A `{{ … }}` in a step's SQL never becomes SQL text: it
 * becomes a placeholder (`$1`, `$2`, …) and its value a bound parameter, typed
 * from the value. Where SQL cannot take a parameter (a table or column name),
 * only `{{ … | identifier }}` may stand, which admits a plain name and quotes it,
 * or noetl's own table reference `{{ product('domain.name') }}`.
 *
 * A placeholder is only meaningful where SQL expects a value, so the templates
 * of a SQL text are first located lexically (strings, quoted names, comments,
 * dollar quotes) and refused, with a reason, where a bound value could not work:
 * inside quotes or comments, glued to other SQL text, or where a name belongs.
 * `noetl check` reports these at check time; tools refuse them before running.
 */
import { randomUUID } from 'node:crypto';
import { NoetlError } from './errors.ts';
import type { Binder } from './template-runtime.ts';

/** The lexical place of a template in SQL text. */
type SqlContext = 'code' | 'string' | 'quoted name' | 'line comment' | 'block comment' | 'dollar-quoted string';

interface Site {
  /** The template as written, `{{ … }}`. */
  text: string;
  /** A name rather than a value: `{{ … | identifier }}`, or a table noetl names (`{{ product('…') }}`). */
  identifier: boolean;
  context: SqlContext;
  /** The SQL just before and after it (on the same nesting of quotes). */
  before: string;
  after: string;
}

/** Keywords after which SQL expects a name, not a value. */
const NAME_KEYWORDS = new Set([
  'FROM',
  'JOIN',
  'INTO',
  'TABLE',
  'UPDATE',
  'AS',
  'BY',
  'VIEW',
  'INDEX',
  'SCHEMA',
  'DATABASE',
]);

/** Why each template of a SQL text cannot be bound where it stands; empty when all can. */
export function sqlTemplateProblems(source: string): string[] {
  return templateSites(source).flatMap((site) => {
    const problem = problemOf(site);
    return problem === undefined ? [] : [`${site.text} ${problem}`];
  });
}

/** Throws E_PLAYBOOK_SQL_TEMPLATE naming every misplaced template of a step's SQL. */
export function assertSqlTemplates(source: string, where: string): void {
  const problems = sqlTemplateProblems(source);
  if (problems.length > 0) throw new NoetlError('E_PLAYBOOK_SQL_TEMPLATE', `${where}: ${problems.join('; ')}`);
}

function problemOf(site: Site): string | undefined {
  switch (site.context) {
    case 'string':
    case 'dollar-quoted string':
      return "is inside a quoted SQL string, where it would be the text '$1': write it without the quotes (it binds as a typed value; join text with ||)";
    case 'quoted name':
      return 'is inside a quoted name: write {{ … | identifier }} without the quotes';
    case 'line comment':
    case 'block comment':
      return 'is inside a SQL comment: remove it or move it out';
    case 'code':
      break;
  }
  const glued = site.identifier ? /[\w$"'`]$/ : /[\w$.:"'`]$/;
  const gluedAfter = site.identifier ? /^[\w$"'`]/ : /^[\w$."'`]/;
  if (
    glued.test(site.before) ||
    gluedAfter.test(site.after) ||
    site.before.endsWith('}}') ||
    site.after.startsWith('{{')
  ) {
    return 'touches other SQL text: a bound value stands alone as a whole value (join text with ||; a name is {{ … | identifier }})';
  }
  if (site.identifier) return undefined;
  const keyword = /([A-Za-z_]+)\s+$/.exec(site.before)?.[1]?.toUpperCase();
  if (keyword !== undefined && NAME_KEYWORDS.has(keyword)) {
    return `stands where SQL expects a name (after ${keyword}): a bound value cannot be a name; write {{ … | identifier }}`;
  }
  if (/^\s*\(/.test(site.after)) return 'stands where SQL expects a function name: a bound value cannot be one';
  return undefined;
}

/** Every `{{ … }}` of a SQL text with its lexical context; `{% … %}` and `{# … #}` are skipped. */
function templateSites(source: string): Site[] {
  const sites: Site[] = [];
  let context: SqlContext = 'code';
  let dollarTag = '';
  let segmentStart = 0;
  for (let i = 0; i < source.length;) {
    const two = source.slice(i, i + 2);
    if (two === '{{' || two === '{%' || two === '{#') {
      const end = closingOf(source, i + 2, two === '{{' ? '}}' : two === '{%' ? '%}' : '#}');
      if (two === '{{') {
        const text = source.slice(i, end);
        const inner = text.slice(2, -2).replace(/^-|-$/g, '').trim();
        const before = source.slice(segmentStart, i);
        const identifier = /\|\s*identifier$/.test(inner) || /^product\s*\(/.test(inner);
        sites.push({ text, identifier, context, before, after: source.slice(end, end + 40) });
        segmentStart = end;
      }
      i = end;
      continue;
    }
    const ch = source[i]!;
    switch (context) {
      case 'code':
        if (ch === "'") context = 'string';
        else if (ch === '"') context = 'quoted name';
        else if (two === '--') context = 'line comment';
        else if (two === '/*') context = 'block comment';
        else if (ch === '$') {
          const tag = /^\$[A-Za-z_]?\w*\$/.exec(source.slice(i))?.[0];
          if (tag !== undefined && !/^\$\d+\$$/.test(tag)) {
            context = 'dollar-quoted string';
            dollarTag = tag;
            i += tag.length;
            continue;
          }
        }
        break;
      case 'string':
        if (ch === "'") context = 'code';
        break;
      case 'quoted name':
        if (ch === '"') context = 'code';
        break;
      case 'line comment':
        if (ch === '\n') context = 'code';
        break;
      case 'block comment':
        if (source.startsWith('*/', i)) {
          context = 'code';
          i += 2;
          continue;
        }
        break;
      case 'dollar-quoted string':
        if (source.startsWith(dollarTag, i)) {
          context = 'code';
          i += dollarTag.length;
          continue;
        }
        break;
    }
    i++;
  }
  return sites;
}

/** Index just past the closing delimiter of a template tag, skipping quoted strings inside it. */
function closingOf(source: string, from: number, close: string): number {
  let quote: string | undefined;
  for (let i = from; i < source.length; i++) {
    const ch = source[i]!;
    if (quote !== undefined) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (source.startsWith(close, i)) return i + close.length;
  }
  return source.length;
}

/**
 * A binder for SQL with `$n` placeholders: each value becomes the next
 * parameter (numbered from `first`), each `| identifier` a quoted plain name,
 * and a fragment noetl itself made (`raw`) its own text.
 */
export interface SqlBinder extends Binder {
  readonly params: unknown[];
  /** A token standing for SQL text noetl made (e.g. a product's table reference); only this render knows it. */
  raw(sql: string): string;
}

export function sqlBinder(options: { first?: number; quote?: (name: string) => string } = {}): SqlBinder {
  const params: unknown[] = [];
  const fragments = new Map<string, string>();
  const nonce = randomUUID();
  const quote = options.quote ?? ((name: string) => `"${name}"`);
  return {
    params,
    raw(sql) {
      const token = `\u0000noetl:${nonce}:${fragments.size}\u0000`;
      fragments.set(token, sql);
      return token;
    },
    value(value) {
      if (typeof value === 'string' && fragments.has(value)) return fragments.get(value)!;
      if (value === undefined)
        throw new NoetlError(
          'E_TEMPLATE',
          'a template in SQL has no value (an undefined variable or field); give it one, or use | default(none) for NULL',
        );
      params.push(value);
      return `$${(options.first ?? 1) + params.length - 1}`;
    },
    identifier(value) {
      if (
        typeof value !== 'string' ||
        !/^[A-Za-z_][A-Za-z0-9_]{0,127}(\.[A-Za-z_][A-Za-z0-9_]{0,127}){0,2}$/.test(value)
      ) {
        throw new NoetlError(
          'E_TEMPLATE',
          `${JSON.stringify(value)?.slice(0, 100)} is not a plain SQL name (letters, digits and _, optionally schema.table): | identifier admits nothing else`,
        );
      }
      return value.split('.').map(quote).join('.');
    },
  };
}
