/** JSON Schema validation errors (ajv) as positioned diagnostics, one per distinct problem. */
import type { ErrorObject } from 'ajv';
import type { Diagnostic } from './diagnostics.ts';
import type { ErrorCode } from './errors.ts';
import { pointerToPath, type YamlSource } from './yaml-source.ts';

export function schemaDiagnostics(source: YamlSource, errors: readonly ErrorObject[], code: ErrorCode, documentName = 'document'): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    // oneOf/if repeat what their branches already said; report the branches.
    if (e.keyword === 'oneOf' || e.keyword === 'if') continue;
    const field = e.instancePath === '' ? documentName : e.instancePath.slice(1).replace(/\//g, '.');
    let message = `${field} ${e.message ?? 'is invalid'}`;
    if (e.keyword === 'enum') message += `: ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    if (e.keyword === 'additionalProperties') message = `${field} has unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    const key = `${e.instancePath}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ...source.locate(pointerToPath(e.instancePath)), code, severity: 'error', message });
  }
  return out;
}
