/**
 * Templates in a URL. A template that starts the URL gives its start, the
 * base a workload names (`{{ workload.api }}/items`): it must itself be an
 * http(s) URL, and the http tool checks the address it leads to like any
 * other. Every later template is one percent-encoded component, so a value
 * cannot add a path segment, a query parameter, a fragment or a user
 * (`https://api/items/{{ workload.id }}` with id `../admin?x=1#` stays one segment).
 */
import { NoetlError } from './errors.ts';
import { evaluateValue, renderBound, type Budget, type Scope } from './expressions.ts';

const LEADING_TEMPLATE = /^\s*\{\{((?:(?!\}\}).)*)\}\}/s;

export function renderUrl(source: unknown, scope: Scope, budget: Budget = {}): unknown {
  if (typeof source !== 'string') return evaluateValue(source, scope, budget);
  const lead = LEADING_TEMPLATE.exec(source);
  const base = lead ? baseOf(evaluateValue(`{{${lead[1]!}}}`, scope, budget)) : '';
  const component = (value: unknown): string => encodeURIComponent(textOf(value));
  return (
    base + renderBound(source.slice(lead?.[0].length ?? 0), scope, { value: component, identifier: component }, budget)
  );
}

function baseOf(value: unknown): string {
  if (typeof value !== 'string' || !/^https?:\/\//i.test(value)) {
    throw new NoetlError(
      'E_TEMPLATE',
      `a template that starts a URL must give an http(s) URL, not ${JSON.stringify(value)?.slice(0, 100)}`,
    );
  }
  return value;
}

function textOf(value: unknown): string {
  if (value === undefined)
    throw new NoetlError('E_TEMPLATE', 'a template in a URL has no value (an undefined variable or field)');
  if (value === null) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}
