/** A contract as the JSON Schema of one row (draft 2020-12): types, required fields and every constraint that has a JSON Schema form. */
import type { Contract, ContractProperty } from '../model.ts';

const TYPES: Record<ContractProperty['logicalType'], Record<string, unknown>> = {
  string: { type: 'string' },
  integer: { type: 'integer' },
  number: { type: 'number' },
  boolean: { type: 'boolean' },
  date: { type: 'string', format: 'date' },
  timestamp: { type: 'string', format: 'date-time' },
  time: { type: 'string', format: 'time' },
  object: { type: 'object' },
  array: { type: 'array' },
};

export function toJsonSchema(c: Contract): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const p of c.properties) {
    const s: Record<string, unknown> = { ...TYPES[p.logicalType] };
    if (p.description) s.description = p.description;
    if (typeof p.minimum === 'number') s.minimum = p.minimum;
    if (typeof p.maximum === 'number') s.maximum = p.maximum;
    if (typeof p.exclusiveMinimum === 'number') s.exclusiveMinimum = p.exclusiveMinimum;
    if (typeof p.exclusiveMaximum === 'number') s.exclusiveMaximum = p.exclusiveMaximum;
    if (p.minLength !== undefined) s.minLength = p.minLength;
    if (p.maxLength !== undefined) s.maxLength = p.maxLength;
    if (p.pattern !== undefined) s.pattern = p.pattern;
    if (p.format !== undefined) s.format = p.format;
    const values = p.quality.flatMap((q) => (q.rule.kind === 'metric' && q.rule.metric === 'invalidValues' && q.rule.validValues && q.severity === 'error' ? [q.rule.validValues] : []))[0];
    if (values) s.enum = [...values];
    if (p.examples) s.examples = p.examples;
    properties[p.name] = p.required ? s : { anyOf: [s, { type: 'null' }] };
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `noetl://products/${c.productId}/${c.version}`,
    title: c.productId,
    ...(c.description ? { description: c.description } : {}),
    type: 'object',
    properties,
    required: c.properties.filter((p) => p.required).map((p) => p.name),
    additionalProperties: !c.enforceColumnOrder,
  };
}
