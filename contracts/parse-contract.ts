/**
 * Reads a contract file: YAML with positions → schema validation → the narrowed
 * model. Every problem is a diagnostic with file:line:col; nothing throws.
 */
import { Ajv2019 } from 'ajv/dist/2019.js';
import type { Diagnostic } from '../common/diagnostics.ts';
import { schemaDiagnostics } from '../common/schema-diagnostics.ts';
import { parseYaml, type YamlSource } from '../common/yaml-source.ts';
import schema from './schema/noetl-contract.schema.json' with { type: 'json' };
import { productIdOf, type Comparison, type Contract, type ContractProperty, type QualityRule } from './model.ts';

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
    properties,
    quality: ((object.quality as Json[] | undefined) ?? []).map((q, i) => toRule(q, ['schema', 0, 'quality', i])),
    raw,
  };
}

function toProperty(p: Json, path: (string | number)[]): ContractProperty {
  const options = (p.logicalTypeOptions as { minimum?: number | string; maximum?: number | string } | undefined) ?? {};
  return {
    name: p.name as string,
    logicalType: p.logicalType as ContractProperty['logicalType'],
    physicalType: p.physicalType as string | undefined,
    required: p.required === true,
    unique: p.unique === true,
    primaryKey: p.primaryKey === true,
    classification: p.classification as string | undefined,
    minimum: options.minimum,
    maximum: options.maximum,
    quality: ((p.quality as Json[] | undefined) ?? []).map((q, i) => toRule(q, [...path, 'quality', i])),
    path,
  };
}

const OPERATORS = ['mustBe', 'mustNotBe', 'mustBeGreaterThan', 'mustBeGreaterOrEqualTo', 'mustBeLessThan', 'mustBeLessOrEqualTo', 'mustBeBetween', 'mustNotBeBetween'] as const;

function toRule(q: Json, path: (string | number)[]): QualityRule {
  const op = OPERATORS.find((o) => q[o] !== undefined)!;
  const args = (q.arguments as { validValues?: QualityRule['validValues']; missingValues?: QualityRule['missingValues'] } | undefined) ?? {};
  return {
    name: q.name as string | undefined,
    metric: q.metric as QualityRule['metric'],
    severity: (q.severity as QualityRule['severity'] | undefined) ?? 'error',
    unit: (q.unit as QualityRule['unit'] | undefined) ?? 'rows',
    comparison: { op, value: q[op] } as Comparison,
    validValues: args.validValues,
    missingValues: args.missingValues,
    path,
  };
}
