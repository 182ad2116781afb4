/**
 * YAML with positions. A parsed file keeps its syntax tree so that any JSON path
 * into the value (from a schema validator or a checker) can be turned back into
 * `file:line:col`. Syntax errors come back as diagnostics, never as exceptions.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Diagnostic } from './diagnostics.ts';
import type { SourceLocation } from './errors.ts';

export type PathSegment = string | number;

export interface YamlSource {
  file: string;
  value: unknown;
  /** Syntax errors; when non-empty, `value` must not be trusted. */
  diagnostics: Diagnostic[];
  /** The position of the deepest node along `path` (1-based line and column). */
  locate(path: readonly PathSegment[]): SourceLocation;
}

export function parseYaml(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  // The library compares each key with every earlier key of its map (quadratic: a 4 MB map takes
  // minutes); duplicates are found here instead, with a set per map.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const at = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  const errors = [...doc.errors.map((e) => ({ offset: e.pos[0], message: e.message })), ...duplicateKeys(doc)].sort((a, b) => a.offset - b.offset);
  const diagnostics: Diagnostic[] = errors.map((e) => ({
    ...at(e.offset),
    code: 'E_YAML_SYNTAX',
    severity: 'error',
    message: firstLine(e.message),
  }));
  let value: unknown;
  if (diagnostics.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      // What parses but cannot become data: an alias to an anchor never set, too many aliases.
      diagnostics.push({ ...at(doc.contents?.range?.[0] ?? 0), code: 'E_YAML_SYNTAX', severity: 'error', message: firstLine((e as Error).message) });
    }
  }
  return { file, value, diagnostics, locate: (path) => at(offsetOf(doc, path)) };
}

/** Keys that repeat an earlier scalar key of the same map (as the library's own `uniqueKeys` would say), walked without recursion. */
function duplicateKeys(doc: Document): { offset: number; message: string }[] {
  const out: { offset: number; message: string }[] = [];
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        if (isScalar(pair.key)) {
          if (seen.has(pair.key.value)) out.push({ offset: pair.key.range?.[0] ?? 0, message: 'Map keys must be unique' });
          seen.add(pair.key.value);
        }
        stack.push(pair.key, pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    }
  }
  return out;
}

/** Splits a JSON pointer (`/a/0/b`) into path segments. */
export function pointerToPath(pointer: string): PathSegment[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function offsetOf(doc: Document, path: readonly PathSegment[]): number {
  let node: Node | null | undefined = doc.contents;
  let offset = node?.range?.[0] ?? 0;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      const valueNode = pair.value as Node | null;
      offset = valueNode?.range?.[0] ?? (pair.key as Node).range?.[0] ?? offset;
      node = valueNode;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

function firstLine(message: string): string {
  // The library catches its own stack overflow on deep nesting (some 800 levels) and reports it as is.
  if (message.includes('Maximum call stack size exceeded')) return 'nested too deeply to read (the parser ran out of stack here): flatten the structure';
  return message.split('\n')[0] ?? message;
}
