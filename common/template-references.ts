/**
 * The variables a template reads, found by walking the syntax tree the
 * template library parses (never by running it): for `{{ results.load.rows }}`
 * the reference is root `results`, path `['load', 'rows']`. Names the template
 * binds itself (`for x in`, `set x =`, macro parameters) are not references.
 */
import { Template } from '@huggingface/jinja';
import { NoetlError } from './errors.ts';
import { isTemplate } from './expressions.ts';

export interface TemplateReference {
  root: string;
  /** Attribute names after the root, as far as they are literal. */
  path: string[];
}

type Node = { type: string; [key: string]: unknown };

/** The references of a template string; throws E_TEMPLATE when it does not parse. */
export function templateReferences(source: string): TemplateReference[] {
  if (!isTemplate(source)) return [];
  let parsed: Node;
  try {
    parsed = (new Template(source) as unknown as { parsed: Node }).parsed;
  } catch (e) {
    throw new NoetlError('E_TEMPLATE', `cannot parse template ${JSON.stringify(source)}: ${(e as Error).message}`, { cause: e });
  }
  const out: TemplateReference[] = [];
  walk(parsed, new Set(['loop', 'true', 'false', 'none', 'True', 'False', 'None', 'range', 'namespace']), out);
  return out;
}

/** A `when` guard may be written with or without braces; its references either way. */
export function guardReferences(expression: string): TemplateReference[] {
  return templateReferences(isTemplate(expression) ? expression : `{{ ${expression} }}`);
}

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && typeof (v as Node).type === 'string';
}

function names(target: unknown): string[] {
  if (!isNode(target)) return [];
  if (target.type === 'Identifier') return [String(target.value)];
  if (Array.isArray(target.value)) return (target.value as unknown[]).flatMap(names);
  return [];
}

function walk(node: unknown, locals: Set<string>, out: TemplateReference[]): void {
  if (Array.isArray(node)) {
    for (const n of node) walk(n, locals, out);
    return;
  }
  if (node instanceof Map) {
    for (const [k, v] of node) {
      walk(k, locals, out);
      walk(v, locals, out);
    }
    return;
  }
  if (!isNode(node)) return;
  switch (node.type) {
    case 'Identifier':
      if (!locals.has(String(node.value))) out.push({ root: String(node.value), path: [] });
      return;
    case 'MemberExpression': {
      const chain = memberChain(node);
      if (chain && !locals.has(chain.root)) out.push(chain);
      else if (!chain) {
        walk(node.object, locals, out);
        if (node.computed) walk(node.property, locals, out);
      }
      return;
    }
    case 'FilterExpression':
    case 'FilterStatement':
      walk(node.operand ?? node.body, locals, out);
      if (isNode(node.filter) && node.filter.type === 'CallExpression') walk(node.filter.args, locals, out);
      return;
    case 'TestExpression':
      walk(node.operand, locals, out);
      return;
    case 'KeywordArgumentExpression':
      walk(node.value, locals, out);
      return;
    case 'For': {
      walk(node.iterable, locals, out);
      const inner = new Set([...locals, ...names(node.loopvar)]);
      walk(node.body, inner, out);
      walk(node.defaultBlock, locals, out);
      return;
    }
    case 'Set':
      walk(node.value, locals, out);
      walk(node.body, locals, out);
      for (const n of names(node.assignee)) locals.add(n);
      return;
    case 'Macro': {
      locals.add(String((node.name as Node).value));
      const inner = new Set([...locals, ...(node.args as unknown[]).flatMap((a) => names(isNode(a) && a.type === 'KeywordArgumentExpression' ? a.key : a))]);
      walk(node.body, inner, out);
      return;
    }
    default:
      // `operator` is a lexer token, not a node of the tree.
      for (const [key, value] of Object.entries(node)) if (key !== 'type' && key !== 'operator') walk(value, locals, out);
  }
}

/** `a.b["c"].d` as root `a` and path `b, c, d`; undefined when the chain does not start at a plain name. */
function memberChain(node: Node): TemplateReference | undefined {
  const path: string[] = [];
  let cur: unknown = node;
  while (isNode(cur) && cur.type === 'MemberExpression') {
    const prop = cur.property as Node;
    if (!cur.computed && prop.type === 'Identifier') path.unshift(String(prop.value));
    else if (cur.computed && prop.type === 'StringLiteral') path.unshift(String(prop.value));
    else path.length = 0; // a computed index: keep only what comes after it
    cur = cur.object;
  }
  if (!isNode(cur) || cur.type !== 'Identifier') return undefined;
  return { root: String(cur.value), path };
}
