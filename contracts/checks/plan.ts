/** The compiled form of a contract's checks, and their results. */
import type { CheckSeverity, Comparison } from '../model.ts';

export interface Check {
  id: string;
  /** What the check is about, for messages: `column "x" is required (not null)`. */
  title: string;
  column: string | undefined;
  severity: CheckSeverity;
  comparison: Comparison;
  /** A fused metric: its alias in the single query over the output. */
  metric?: string;
  /** A standalone query returning one number, with source placeholders (see sql.ts). */
  query?: string;
  /** Values that explain a failure (name → aggregate), read only when the check fails; fused checks only. */
  extras: Record<string, string>;
  /** How the observed value derives from the metric: as is, an age in seconds, or a ratio to a reference's rows. */
  transform?: { kind: 'ageSeconds' } | { kind: 'ratioTo'; ref: string };
  /** WHERE predicate (with placeholders) selecting the rows that break the check, for samples. */
  failing?: string;
  /** Or a whole query whose rows are the failures (a failingRows rule), for samples. */
  failingQuery?: string;
}

export interface CheckPlan {
  productId: string;
  checks: Check[];
  /** `alias → aggregate SQL` for every fused metric: one select list, one scan (distinct counts as placeholders, see bindDistinct). */
  expressions: Map<string, string>;
  /** Columns identifying a row in failed-row samples (never PII). */
  sampleColumns: string[];
}

export interface CheckResult {
  id: string;
  title: string;
  column: string | undefined;
  severity: CheckSeverity;
  passed: boolean;
  observed: number | null;
  expected: string;
  extras: Record<string, unknown>;
  /** Why the check did not run (e.g. no previous version to compare with); a skipped check passes. */
  skipped?: string;
  /** At most five rows (key columns only) that break the check. */
  samples?: Record<string, unknown>[];
}

/** What the gate measured, by metric alias or check id. */
export type Measurements = Record<string, unknown>;
