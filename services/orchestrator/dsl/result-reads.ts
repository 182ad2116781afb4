/**
 * Which earlier results a step can read, so its command carries those and not
 * every result of the execution (a long chain or a big loop would otherwise
 * send O(steps) bytes with every command). A step reads a result when its tool
 * configuration names the step: in a template (`{{ results.load.rows }}`) or as
 * a word in SQL (`SELECT * FROM load`, a DuckDB view). A template that reads
 * `results` other than by a step's name (as a whole, through a method or a
 * filter, with a computed key) reads them all.
 */
import { isTemplate } from '../../../common/expressions.ts';
import { templateReferences } from '../../../common/template-references.ts';
import type { Playbook, Step } from './model.ts';

/** Step name → the steps whose results it reads, or 'all'. */
export type ResultReads = ReadonlyMap<string, ReadonlySet<string> | 'all'>;

export function resultReads(p: Playbook): ResultReads {
  const names = new Set(p.steps.map((s) => s.name));
  return new Map(p.steps.map((s) => [s.name, readsOf(s, names)]));
}

function readsOf(step: Step, names: ReadonlySet<string>): ReadonlySet<string> | 'all' {
  const out = new Set<string>();
  for (const text of strings(step.tool)) {
    // `results.items()`, `results | length`, `results[key]`: not one named step, so every one.
    if (isTemplate(text) && templateReferences(text).some((r) => r.root === 'results' && (r.path.length === 0 || !names.has(r.path[0]!)))) return 'all';
    // SQL names are case-insensitive; step names are lower case.
    for (const word of text.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []) if (names.has(word.toLowerCase())) out.add(word.toLowerCase());
  }
  return out;
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}
