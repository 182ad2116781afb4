/**
 * Templates and `when` guards, in Jinja syntax so NoETL users feel at home.
 * Evaluation uses @huggingface/jinja, a maintained Jinja interpreter written in
 * TypeScript that never calls `eval`, exposes no globals and resolves attributes
 * only on the plain data it is given: a template cannot reach the process, the
 * file system, the network or object prototypes. Functions are available to a
 * template only when the caller puts them in the scope (e.g. `product()`), and
 * every evaluation runs within a budget (template-runtime.ts).
 */
import { NoetlError } from './errors.ts';
import { compileTemplate, runTemplate, type Binder, type RunOptions } from './template-runtime.ts';

export type Scope = Record<string, unknown>;

/** What an evaluation may spend: the default limits, and at most until `deadline` (epoch ms). */
export type Budget = Pick<RunOptions, 'deadline' | 'limits'>;

export function isTemplate(text: string): boolean {
  return text.includes('{{') || text.includes('{%');
}

/** Renders a template string against a scope; plain strings come back unchanged. */
export function renderTemplate(source: string, scope: Scope, budget: Budget = {}): string {
  if (!isTemplate(source)) return source;
  return run(source, () => runTemplate(compileTemplate(source), scope, budget));
}

/**
 * Renders a template whose `{{ … }}` outputs go through a binder instead of
 * into the text as they are: the way a caller's value reaches SQL or a URL.
 */
export function renderBound(source: string, scope: Scope, binder: Binder, budget: Budget = {}): string {
  if (!isTemplate(source)) return source;
  return run(source, () => runTemplate(compileTemplate(source, true), scope, { ...budget, binder }));
}

/** Renders every string inside a JSON-like value. */
export function renderDeep<T>(value: T, scope: Scope, budget: Budget = {}): T {
  if (typeof value === 'string') return renderTemplate(value, scope, budget) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => renderDeep(v, scope, budget)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderDeep(v, scope, budget)])) as T;
  }
  return value;
}

/**
 * Evaluates a `when` guard. A guard is an expression, optionally wrapped in
 * `{{ }}`; it must evaluate to a boolean, anything else is an error.
 */
export function evaluateGuard(expression: string | boolean, scope: Scope, budget: Budget = {}): boolean {
  if (typeof expression === 'boolean') return expression;
  const inner = stripBraces(expression);
  const rendered = renderTemplate(`{{ (${inner}) | tojson }}`, scope, budget);
  let value: unknown;
  try {
    value = JSON.parse(rendered);
  } catch {
    value = rendered;
  }
  if (typeof value !== 'boolean') {
    throw new NoetlError(
      'E_GUARD_NOT_BOOLEAN',
      `when-guard ${JSON.stringify(expression)} gave ${rendered.slice(0, 200)}, not true or false`,
    );
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
export function evaluateValue(value: unknown, scope: Scope, budget: Budget = {}): unknown {
  if (typeof value === 'string') {
    const inner = singleExpression(value);
    if (inner === undefined) return renderTemplate(value, scope, budget);
    const rendered = renderTemplate(`{{ (${inner}) | tojson }}`, scope, budget);
    try {
      return JSON.parse(rendered) as unknown;
    } catch {
      return rendered;
    }
  }
  if (Array.isArray(value)) return value.map((v: unknown) => evaluateValue(v, scope, budget));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluateValue(v, scope, budget)]));
  }
  return value;
}

/** The expression of a string that is exactly one `{{ expression }}`, else undefined. */
export function singleExpression(text: string): string | undefined {
  const m = /^\s*\{\{([\s\S]*)\}\}\s*$/.exec(text);
  if (!m || m[1]!.includes('{{') || m[1]!.includes('}}')) return undefined;
  return m[1]!.trim();
}

function run(source: string, render: () => string): string {
  try {
    return render();
  } catch (e) {
    if (e instanceof NoetlError) throw e;
    throw new NoetlError(
      'E_TEMPLATE',
      `cannot render template ${JSON.stringify(source.slice(0, 500))}: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/** Guards and values together: what the engine needs to route, set variables and expand loops. */
export const EXPRESSIONS = { guard: evaluateGuard, value: evaluateValue };

export type { Binder } from './template-runtime.ts';
