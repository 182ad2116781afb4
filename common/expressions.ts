/**
 * Templates and `when` guards, in Jinja syntax so NoETL users feel at home.
 * Evaluation uses @huggingface/jinja, a maintained Jinja interpreter written in
 * TypeScript that never calls `eval`, exposes no globals and resolves attributes
 * only on the plain data it is given: a template cannot reach the process, the
 * file system, the network or object prototypes. Functions are available to a
 * template only when the caller puts them in the scope (e.g. `product()`).
 */
import { Template } from '@huggingface/jinja';
import { NoetlError } from './errors.ts';

export type Scope = Record<string, unknown>;

const cache = new Map<string, Template>();

function compile(source: string): Template {
  let t = cache.get(source);
  if (!t) {
    try {
      t = new Template(source);
    } catch (e) {
      throw new NoetlError('E_TEMPLATE', `cannot parse template ${JSON.stringify(source)}: ${(e as Error).message}`, { cause: e });
    }
    if (cache.size > 5000) cache.clear();
    cache.set(source, t);
  }
  return t;
}

export function isTemplate(text: string): boolean {
  return text.includes('{{') || text.includes('{%');
}

/** Renders a template string against a scope; plain strings come back unchanged. */
export function renderTemplate(source: string, scope: Scope): string {
  if (!isTemplate(source)) return source;
  try {
    return compile(source).render(scope);
  } catch (e) {
    if (e instanceof NoetlError) throw e;
    throw new NoetlError('E_TEMPLATE', `cannot render template ${JSON.stringify(source)}: ${(e as Error).message}`, { cause: e });
  }
}

/** Renders every string inside a JSON-like value. */
export function renderDeep<T>(value: T, scope: Scope): T {
  if (typeof value === 'string') return renderTemplate(value, scope) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => renderDeep(v, scope)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderDeep(v, scope)])) as T;
  }
  return value;
}

/**
 * Evaluates a `when` guard. A guard is an expression, optionally wrapped in
 * `{{ }}`; it must evaluate to a boolean, anything else is an error.
 */
export function evaluateGuard(expression: string | boolean, scope: Scope): boolean {
  if (typeof expression === 'boolean') return expression;
  const inner = stripBraces(expression);
  const rendered = renderTemplate(`{{ (${inner}) | tojson }}`, scope);
  let value: unknown;
  try {
    value = JSON.parse(rendered);
  } catch {
    value = rendered;
  }
  if (typeof value !== 'boolean') {
    throw new NoetlError('E_GUARD_NOT_BOOLEAN', `when-guard ${JSON.stringify(expression)} gave ${rendered}, not true or false`);
  }
  return value;
}

function stripBraces(expression: string): string {
  const m = /^\s*\{\{([\s\S]*)\}\}\s*$/.exec(expression);
  return (m ? m[1]! : expression).trim();
}

/**
 * Evaluates a value: a string that is one `{{ expression }}` and nothing else
 * gives the expression's own value (a number, list or object, not its text);
 * other strings are rendered; lists and objects are evaluated member by member.
 */
export function evaluateValue(value: unknown, scope: Scope): unknown {
  if (typeof value === 'string') {
    const m = /^\s*\{\{([\s\S]*)\}\}\s*$/.exec(value);
    if (!m || m[1]!.includes('{{') || m[1]!.includes('}}')) return renderTemplate(value, scope);
    const rendered = renderTemplate(`{{ (${m[1]!.trim()}) | tojson }}`, scope);
    try {
      return JSON.parse(rendered) as unknown;
    } catch {
      return rendered;
    }
  }
  if (Array.isArray(value)) return value.map((v: unknown) => evaluateValue(v, scope));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluateValue(v, scope)]));
  return value;
}

/** Guards and values together: what the engine needs to route, set variables and expand loops. */
export const EXPRESSIONS = { guard: evaluateGuard, value: evaluateValue };
