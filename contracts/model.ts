/**
 * The data-product contract as noetl reads it: an ODCS v3.1 document narrowed to
 * what the registry, the quality gate and CI act on. The raw document is kept
 * beside it so nothing a team wrote is lost.
 */

export type LogicalType = 'string' | 'date' | 'timestamp' | 'time' | 'number' | 'integer' | 'object' | 'array' | 'boolean';
export type ContractStatus = 'proposed' | 'draft' | 'active' | 'deprecated' | 'retired';
export type CheckSeverity = 'error' | 'warning';
export type QualityMetric = 'nullValues' | 'missingValues' | 'invalidValues' | 'duplicateValues' | 'rowCount';

/** An ODCS comparison: exactly one operator with its operand. */
export type Comparison =
  | { op: 'mustBe' | 'mustNotBe' | 'mustBeGreaterThan' | 'mustBeGreaterOrEqualTo' | 'mustBeLessThan' | 'mustBeLessOrEqualTo'; value: number }
  | { op: 'mustBeBetween' | 'mustNotBeBetween'; value: [number, number] };

export interface QualityRule {
  name: string | undefined;
  metric: QualityMetric;
  severity: CheckSeverity;
  unit: 'rows' | 'percent';
  comparison: Comparison;
  validValues: readonly (string | number | boolean)[] | undefined;
  missingValues: readonly (string | number | null)[] | undefined;
  /** JSON path of the rule in the contract, for positions in diagnostics. */
  path: (string | number)[];
}

export interface ContractProperty {
  name: string;
  logicalType: LogicalType;
  physicalType: string | undefined;
  required: boolean;
  unique: boolean;
  primaryKey: boolean;
  classification: string | undefined;
  minimum: number | string | undefined;
  maximum: number | string | undefined;
  quality: QualityRule[];
  path: (string | number)[];
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
  properties: ContractProperty[];
  quality: QualityRule[];
  raw: Record<string, unknown>;
}

export function productIdOf(domain: string, dataProduct: string): string {
  return `${domain}.${dataProduct}`;
}
