/**
 * The data-product contract as noetl reads it: an ODCS v3.1 document narrowed to
 * what the registry, the quality gate and CI act on. The raw document is kept
 * beside it so nothing a team wrote is lost.
 */

export type LogicalType = 'string' | 'date' | 'timestamp' | 'time' | 'number' | 'integer' | 'object' | 'array' | 'boolean';
export type ContractStatus = 'proposed' | 'draft' | 'active' | 'deprecated' | 'retired';
export type CheckSeverity = 'error' | 'warning';
export type QualityMetric = 'nullValues' | 'missingValues' | 'invalidValues' | 'duplicateValues' | 'rowCount';
export type Statistic = 'avg' | 'min' | 'max' | 'sum' | 'stddev' | 'median' | 'p90' | 'p95' | 'p99';

/** An ODCS comparison: exactly one operator with its operand. */
export type Comparison =
  | { op: 'mustBe' | 'mustNotBe' | 'mustBeGreaterThan' | 'mustBeGreaterOrEqualTo' | 'mustBeLessThan' | 'mustBeLessOrEqualTo'; value: number }
  | { op: 'mustBeBetween' | 'mustNotBeBetween'; value: [number, number] };

export const COMPARISON_OPERATORS = ['mustBe', 'mustNotBe', 'mustBeGreaterThan', 'mustBeGreaterOrEqualTo', 'mustBeLessThan', 'mustBeLessOrEqualTo', 'mustBeBetween', 'mustNotBeBetween'] as const;

/** What a quality rule measures. ODCS library metrics, ODCS `sql`, and noetl's own (`type: custom, engine: noetl`). */
export type RuleKind =
  | { kind: 'metric'; metric: QualityMetric; validValues?: readonly (string | number | boolean)[]; missingValues?: readonly (string | number | null)[]; pattern?: string }
  | { kind: 'sql'; query: string }
  | { kind: 'statistic'; statistic: Statistic; column: string | undefined }
  | { kind: 'rowCountComparison'; product: string }
  | { kind: 'failingRows'; query: string }
  | { kind: 'drift'; column: string | undefined };

export interface QualityRule {
  name: string | undefined;
  description: string | undefined;
  severity: CheckSeverity;
  unit: 'rows' | 'percent';
  comparison: Comparison;
  rule: RuleKind;
  /** JSON path of the rule in the contract, for positions in diagnostics. */
  path: (string | number)[];
}

export interface Relationship {
  /** `table.column`: the schema object (a product's name) and its property. */
  to: string;
  path: (string | number)[];
}

export interface ContractProperty {
  name: string;
  description: string | undefined;
  logicalType: LogicalType;
  physicalType: string | undefined;
  required: boolean;
  unique: boolean;
  primaryKey: boolean;
  primaryKeyPosition: number | undefined;
  /** A partition column: a run writes whole partitions, and is checked on those alone. */
  partitioned: boolean;
  classification: string | undefined;
  minimum: number | string | undefined;
  maximum: number | string | undefined;
  exclusiveMinimum: number | string | undefined;
  exclusiveMaximum: number | string | undefined;
  minLength: number | undefined;
  maxLength: number | undefined;
  pattern: string | undefined;
  format: string | undefined;
  examples: unknown[] | undefined;
  relationships: Relationship[];
  quality: QualityRule[];
  path: (string | number)[];
}

export interface Freshness {
  /** The timestamp column whose newest value must be recent. */
  column: string;
  maxAgeSeconds: number;
}

export interface Contract {
  /** `<domain>.<dataProduct>`: the product id used everywhere else. */
  productId: string;
  contractId: string;
  domain: string;
  dataProduct: string;
  version: string;
  status: ContractStatus;
  description: string | undefined;
  team: string;
  owners: string[];
  objectName: string;
  objectDescription: string | undefined;
  /** Whether the gate also requires the columns in the contract's order. */
  enforceColumnOrder: boolean;
  properties: ContractProperty[];
  quality: QualityRule[];
  freshness: Freshness | undefined;
  raw: Record<string, unknown>;
}

export function productIdOf(domain: string, dataProduct: string): string {
  return `${domain}.${dataProduct}`;
}

/** PII-classified columns are never shown in failed-row samples. */
export function isPii(p: Pick<ContractProperty, 'classification'>): boolean {
  return p.classification !== undefined && /pii|personal|sensitive/i.test(p.classification);
}

/** The columns that identify a row in samples: the primary key, else unique columns; never PII. */
export function sampleKeyColumns(c: Contract): string[] {
  const pk = c.properties.filter((p) => p.primaryKey).sort((a, b) => (a.primaryKeyPosition ?? 0) - (b.primaryKeyPosition ?? 0));
  const keys = pk.length > 0 ? pk : c.properties.filter((p) => p.unique);
  return keys.filter((p) => !isPii(p)).map((p) => p.name);
}

/** The partition columns of a product, in contract order; empty when it is not partitioned. */
export function partitionColumns(c: Contract): string[] {
  return c.properties.filter((p) => p.partitioned).map((p) => p.name);
}
