/**
 * Reads a contract file: YAML with positions → schema validation → the narrowed
 * model. Every problem is a diagnostic with file:line:col; nothing throws.
 */
import { Ajv2019 } from 'ajv/dist/2019.js';
import type { Diagnostic } from '../common/diagnostics.ts';
import { schemaDiagnostics } from '../common/schema-diagnostics.ts';
import { parseYaml, type YamlSource } from '../common/yaml-source.ts';
import schema from './schema/noetl-contract.schema.json' with { type: 'json' };
import { COMPARISON_OPERATORS, productIdOf, type Comparison, type Contract, type ContractProperty, type Freshness, type QualityMetric, type QualityRule, type RuleKind, type Statistic } from './model.ts';

const ajv = new Ajv2019({ allErrors: true, strict: false });
const validate = ajv.compile(schema);

export interface ContractParseResult {
  contract: Contract | undefined;
  diagnostics: Diagnostic[];
  source: YamlSource;
}

/** Parses and validates one contract; `contract` is set only when there is no error. */
export function parseContract(text: string, file: string): ContractParseResult {
  const source = parseYaml(text, file);
  if (source.diagnostics.length > 0) return { contract: undefined, diagnostics: source.diagnostics, source };
  const diagnostics = schemaDiagnostics(source, validate(source.value) ? [] : (validate.errors ?? []), 'E_CONTRACT_INVALID');
  if (diagnostics.length > 0) return { contract: undefined, diagnostics, source };
  const raw = source.value as Record<string, unknown>;
  const contract = toModel(raw);
  const expectedId = contract.productId;
  if (contract.contractId !== expectedId) {
    diagnostics.push({
      ...source.locate(['id']),
      code: 'E_CONTRACT_INVALID',
      severity: 'error',
      message: `contract id "${contract.contractId}" must be "<domain>.<dataProduct>" = "${expectedId}"`,
    });
  }
  for (const p of contract.properties) {
    if (p.minimum !== undefined && p.maximum !== undefined && typeof p.minimum === 'number' && typeof p.maximum === 'number' && p.minimum > p.maximum) {
      diagnostics.push({ ...source.locate(p.path), code: 'E_CONTRACT_INVALID', severity: 'error', message: `property "${p.name}": minimum ${p.minimum} is above maximum ${p.maximum}` });
    }
  }
  diagnostics.push(...semanticDiagnostics(contract, raw, source));
  const seen = new Set<string>();
  for (const p of contract.properties) {
    if (seen.has(p.name)) {
      diagnostics.push({ ...source.locate(p.path), code: 'E_CONTRACT_INVALID', severity: 'error', message: `property "${p.name}" is declared twice` });
    }
    seen.add(p.name);
  }
  return { contract: diagnostics.length > 0 ? undefined : contract, diagnostics, source };
}

type Json = Record<string, unknown>;

function toModel(raw: Json): Contract {
  const team = raw.team as { name: string; members: { username: string; role: string }[] };
  const object = (raw.schema as Json[])[0]!;
  const description = raw.description as { purpose?: string } | undefined;
  const properties = (object.properties as Json[]).map((p, i) => toProperty(p, ['schema', 0, 'properties', i]));
  const custom = (object.customProperties as { property: string; value: unknown }[] | undefined) ?? [];
  return {
    productId: productIdOf(raw.domain as string, raw.dataProduct as string),
    contractId: raw.id as string,
    domain: raw.domain as string,
    dataProduct: raw.dataProduct as string,
    version: raw.version as string,
    status: raw.status as Contract['status'],
    description: description?.purpose,
    team: team.name,
    owners: team.members.filter((m) => m.role === 'owner').map((m) => m.username),
    objectName: object.name as string,
    objectDescription: object.description as string | undefined,
    enforceColumnOrder: custom.some((c) => c.property === 'enforceColumnOrder' && c.value === true),
    properties,
    quality: ((object.quality as Json[] | undefined) ?? []).map((q, i) => toRule(q, ['schema', 0, 'quality', i])),
    freshness: freshnessOf(raw.slaProperties as Json[] | undefined, object.name as string),
    raw,
  };
}

function toProperty(p: Json, path: (string | number)[]): ContractProperty {
  const o = (p.logicalTypeOptions as Record<string, unknown> | undefined) ?? {};
  const num = (v: unknown): number | string | undefined => (typeof v === 'number' || typeof v === 'string' ? v : undefined);
  return {
    name: p.name as string,
    description: p.description as string | undefined,
    logicalType: p.logicalType as ContractProperty['logicalType'],
    physicalType: p.physicalType as string | undefined,
    required: p.required === true,
    unique: p.unique === true,
    primaryKey: p.primaryKey === true,
    primaryKeyPosition: p.primaryKeyPosition as number | undefined,
    partitioned: p.partitioned === true,
    classification: p.classification as string | undefined,
    minimum: num(o.minimum),
    maximum: num(o.maximum),
    exclusiveMinimum: num(o.exclusiveMinimum),
    exclusiveMaximum: num(o.exclusiveMaximum),
    minLength: o.minLength as number | undefined,
    maxLength: o.maxLength as number | undefined,
    pattern: o.pattern as string | undefined,
    format: o.format as string | undefined,
    examples: p.examples as unknown[] | undefined,
    relationships: ((p.relationships as { to: string }[] | undefined) ?? []).map((r, i) => ({ to: r.to, path: [...path, 'relationships', i] })),
    quality: ((p.quality as Json[] | undefined) ?? []).map((q, i) => toRule(q, [...path, 'quality', i])),
    path,
  };
}

function comparisonOf(q: Json): Comparison | undefined {
  const op = COMPARISON_OPERATORS.find((o) => q[o] !== undefined);
  return op === undefined ? undefined : ({ op, value: q[op] } as Comparison);
}

function toRule(q: Json, path: (string | number)[]): QualityRule {
  const base = {
    name: q.name as string | undefined,
    description: q.description as string | undefined,
    severity: (q.severity as QualityRule['severity'] | undefined) ?? 'error',
    unit: (q.unit as QualityRule['unit'] | undefined) ?? 'rows',
    path,
  };
  if (q.type === 'custom') {
    const impl = q.implementation as { check: string; statistic?: Statistic; column?: string; product?: string; query?: string } & Json;
    const comparison = comparisonOf(impl) ?? { op: 'mustBe', value: 0 };
    const rule: RuleKind =
      impl.check === 'statistic' ? { kind: 'statistic', statistic: impl.statistic ?? 'avg', column: impl.column }
      : impl.check === 'rowCountComparison' ? { kind: 'rowCountComparison', product: impl.product ?? '' }
      : impl.check === 'failingRows' ? { kind: 'failingRows', query: impl.query ?? '' }
      : { kind: 'drift', column: impl.column };
    return { ...base, comparison, rule };
  }
  const comparison = comparisonOf(q) ?? { op: 'mustBe', value: 0 };
  if (q.type === 'sql') return { ...base, comparison, rule: { kind: 'sql', query: q.query as string } };
  const args = (q.arguments as { validValues?: (string | number | boolean)[]; missingValues?: (string | number | null)[]; pattern?: string } | undefined) ?? {};
  return {
    ...base,
    comparison,
    rule: { kind: 'metric', metric: q.metric as QualityMetric, ...(args.validValues ? { validValues: args.validValues } : {}), ...(args.missingValues ? { missingValues: args.missingValues } : {}), ...(args.pattern ? { pattern: args.pattern } : {}) },
  };
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, min: 60, h: 3600, hr: 3600, d: 86400, day: 86400, days: 86400, y: 31_536_000 };

/** ODCS `slaProperties` freshness: `{property: freshness, value: 24, unit: h, element: table.column}`. */
function freshnessOf(sla: Json[] | undefined, objectName: string): Freshness | undefined {
  const f = (sla ?? []).find((s) => s.property === 'freshness');
  if (!f || typeof f.value !== 'number') return undefined;
  const element = typeof f.element === 'string' ? f.element : '';
  const column = element.includes('.') ? element.slice(element.indexOf('.') + 1) : element;
  const unit = typeof f.unit === 'string' ? f.unit.toLowerCase() : 'h';
  if (!column || (element.includes('.') && !element.startsWith(`${objectName}.`))) return undefined;
  return { column, maxAgeSeconds: f.value * (UNIT_SECONDS[unit] ?? 3600) };
}

/** What the schema cannot say: rules naming columns that exist, one comparison where one is needed, patterns that compile. */
function semanticDiagnostics(contract: Contract, raw: Json, source: YamlSource): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report = (path: (string | number)[], message: string): void => {
    out.push({ ...source.locate(path), code: 'E_CONTRACT_INVALID', severity: 'error', message });
  };
  const columns = new Set(contract.properties.map((p) => p.name));
  const rules = [...contract.properties.flatMap((p) => p.quality.map((q) => [q, p.name] as const)), ...contract.quality.map((q) => [q, undefined] as const)];
  for (const [q, owner] of rules) {
    const spec = rawAt(raw, q.path) as Json;
    const body = (spec.type === 'custom' ? spec.implementation : spec) as Json;
    const ops = COMPARISON_OPERATORS.filter((o) => body[o] !== undefined);
    const needsOne = !(q.rule.kind === 'failingRows');
    if (ops.length > 1 || (needsOne && ops.length === 0)) report(q.path, `rule needs exactly one of ${COMPARISON_OPERATORS.join(', ')}${q.rule.kind === 'failingRows' ? ' or none' : ''}`);
    const column = q.rule.kind === 'statistic' || q.rule.kind === 'drift' ? (q.rule.column ?? owner) : owner;
    if ((q.rule.kind === 'statistic' || q.rule.kind === 'drift') && column === undefined) report(q.path, `a ${q.rule.kind} rule needs a column: put it under a property or name one`);
    if (column !== undefined && !columns.has(column)) report(q.path, `rule refers to column "${column}", which the contract does not declare`);
    if (q.rule.kind === 'metric' && q.rule.pattern !== undefined && !compiles(q.rule.pattern)) report(q.path, `pattern ${q.rule.pattern} is not a valid regular expression`);
    if ((q.rule.kind === 'failingRows' || q.rule.kind === 'sql') && !q.rule.query.includes('${table}')) report(q.path, 'the query must read the output as ${table}');
  }
  for (const p of contract.properties) {
    if (p.pattern !== undefined && !compiles(p.pattern)) report([...p.path, 'logicalTypeOptions', 'pattern'], `pattern ${p.pattern} is not a valid regular expression`);
    if (p.format !== undefined && !KNOWN_FORMATS.includes(p.format)) report([...p.path, 'logicalTypeOptions', 'format'], `format "${p.format}" is not one the gate checks: ${KNOWN_FORMATS.join(', ')}`);
  }
  if (contract.freshness && !columns.has(contract.freshness.column)) report(['slaProperties'], `freshness names column "${contract.freshness.column}", which the contract does not declare`);
  return out;
}

const KNOWN_FORMATS = ['email', 'uuid', 'uri', 'hostname', 'ipv4'];

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

function rawAt(raw: unknown, path: readonly (string | number)[]): unknown {
  let v: unknown = raw;
  for (const seg of path) v = (v as Record<string | number, unknown>)[seg];
  return v;
}
