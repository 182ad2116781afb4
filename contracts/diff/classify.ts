/**
 * Classifies what changed between two versions of a contract, from the point of
 * view of the data the product promises:
 *   - error (breaking): what existing data or producers may no longer satisfy —
 *     a field removed or renamed, a type changed or narrowed, optional → required,
 *     a new unique or primary key, a weaker classification, a new error-level rule,
 *     a tightened range, value set, pattern or length;
 *   - warning: primary key or relationships changed, status → deprecated;
 *   - info: descriptions, added optional fields, loosened rules.
 * Then the version rules: a breaking change needs a major bump, and versions
 * never go backwards. Pure: it compares two parsed contracts.
 */
import type { Comparison, Contract, ContractProperty, QualityRule } from '../model.ts';
import { compareSemver, nextMajor, parseSemver } from './semver.ts';

export type ChangeSeverity = 'error' | 'warning' | 'info';

export interface ContractChange {
  severity: ChangeSeverity;
  /** Stable rule id, e.g. `field-removed`. */
  rule: string;
  message: string;
  /** Where, as a JSON path into the head contract (or the base one when the thing is gone). */
  path: (string | number)[];
  side: 'head' | 'base';
}

const CLASSIFICATION_RANK = (c: string | undefined): number => {
  if (c === undefined) return 0;
  const v = c.toLowerCase();
  if (/pii|personal|sensitive/.test(v)) return 4;
  if (v.includes('restricted')) return 3;
  if (v.includes('confidential')) return 2;
  if (v.includes('internal')) return 1;
  return 0;
};

/** Physical types that only grow: the later ones hold every value of the earlier ones. */
const WIDENING = [
  ['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT'],
  ['FLOAT', 'DOUBLE'],
];

export function diffContracts(base: Contract, head: Contract): ContractChange[] {
  const out: ContractChange[] = [];
  const add = (severity: ChangeSeverity, rule: string, message: string, path: (string | number)[], side: 'head' | 'base' = 'head'): void => {
    out.push({ severity, rule, message, path, side });
  };
  const baseProps = new Map(base.properties.map((p) => [p.name, p]));
  const headProps = new Map(head.properties.map((p) => [p.name, p]));
  const removed = base.properties.filter((p) => !headProps.has(p.name));
  const added = head.properties.filter((p) => !baseProps.has(p.name));
  const renamed = new Map<string, ContractProperty>();
  if (removed.length === 1 && added.length === 1 && sameType(removed[0]!, added[0]!)) renamed.set(removed[0]!.name, added[0]!);
  for (const p of removed) {
    const to = renamed.get(p.name);
    if (to) add('error', 'field-renamed', `field "${p.name}" was renamed to "${to.name}"`, to.path);
    else add('error', 'field-removed', `field "${p.name}" was removed`, p.path, 'base');
  }
  const renamedTo = new Set(renamed.values());
  for (const p of added) {
    if (renamedTo.has(p)) continue;
    if (p.required) add('error', 'field-added-required', `new field "${p.name}" is required: existing data has no value for it`, p.path);
    else add('info', 'field-added', `new optional field "${p.name}"`, p.path);
  }
  for (const h of head.properties) {
    const b = baseProps.get(h.name);
    if (b) diffProperty(b, h, add);
  }
  diffRules(base.quality, head.quality, add, 'table');
  if (base.status !== head.status) {
    if (head.status === 'deprecated') add('warning', 'status-deprecated', `status ${base.status} → deprecated: consumers should plan to move off this product`, ['status']);
    else if (head.status === 'retired') add('error', 'status-retired', `status ${base.status} → retired: the product will no longer be built`, ['status']);
    else add('info', 'status-changed', `status ${base.status} → ${head.status}`, ['status']);
  }
  if (base.description !== head.description || base.objectDescription !== head.objectDescription) add('info', 'description-changed', 'description changed', ['description']);
  if (!base.enforceColumnOrder && head.enforceColumnOrder) add('error', 'column-order-enforced', 'the column order is now enforced', ['schema', 0, 'customProperties']);
  const bf = base.freshness;
  const hf = head.freshness;
  if (hf && (!bf || hf.maxAgeSeconds < bf.maxAgeSeconds || hf.column !== bf.column)) add('error', 'freshness-tightened', `freshness now requires "${hf.column}" at most ${hf.maxAgeSeconds} s old${bf ? ` (was ${bf.maxAgeSeconds} s)` : ''}`, ['slaProperties']);
  else if (bf && (!hf || hf.maxAgeSeconds > bf.maxAgeSeconds)) add('info', 'freshness-loosened', 'freshness loosened', ['slaProperties']);
  return out;
}

/** The version rules: breaking without a major bump, and versions going backwards, are errors. */
export function versionFindings(base: Contract, head: Contract, changes: readonly ContractChange[]): ContractChange[] {
  const out: ContractChange[] = [];
  const order = compareSemver(head.version, base.version);
  if (order < 0) {
    out.push({ severity: 'error', rule: 'version-backwards', message: `version went backwards: ${base.version} → ${head.version}`, path: ['version'], side: 'head' });
    return out;
  }
  const breaking = changes.filter((c) => c.severity === 'error');
  const bumped = (parseSemver(head.version)?.major ?? 0) > (parseSemver(base.version)?.major ?? 0);
  if (breaking.length > 0 && !bumped) {
    out.push({
      severity: 'error',
      rule: 'breaking-without-major',
      message: `${breaking.length} breaking change${breaking.length > 1 ? 's' : ''} (${[...new Set(breaking.map((c) => c.rule))].join(', ')}) need${breaking.length > 1 ? '' : 's'} a major version: ${base.version} → ${nextMajor(base.version)}, not ${head.version}`,
      path: ['version'],
      side: 'head',
    });
  }
  return out;
}

type Add = (severity: ChangeSeverity, rule: string, message: string, path: (string | number)[], side?: 'head' | 'base') => void;

function diffProperty(b: ContractProperty, h: ContractProperty, add: Add): void {
  const f = `field "${h.name}"`;
  if (b.logicalType !== h.logicalType) {
    if (b.logicalType === 'integer' && h.logicalType === 'number') add('info', 'type-widened', `${f} widened from integer to number`, [...h.path, 'logicalType']);
    else add('error', 'type-changed', `${f} changed type from ${b.logicalType} to ${h.logicalType}`, [...h.path, 'logicalType']);
  } else if ((b.physicalType ?? '') !== (h.physicalType ?? '') && b.physicalType !== undefined && h.physicalType !== undefined) {
    if (widens(b.physicalType, h.physicalType)) add('info', 'type-widened', `${f} widened from ${b.physicalType} to ${h.physicalType}`, [...h.path, 'physicalType']);
    else add('error', 'type-narrowed', `${f} changed physical type from ${b.physicalType} to ${h.physicalType}`, [...h.path, 'physicalType']);
  }
  if (!b.required && h.required) add('error', 'became-required', `${f} became required: existing data may have nulls`, [...h.path, 'required']);
  if (b.required && !h.required) add('info', 'became-optional', `${f} is no longer required`, [...h.path, 'required']);
  if (!b.unique && h.unique) add('error', 'new-unique', `${f} must now be unique`, [...h.path, 'unique']);
  if (b.unique && !h.unique) add('info', 'unique-dropped', `${f} need no longer be unique`, [...h.path, 'unique']);
  if (!b.primaryKey && h.primaryKey) add('error', 'new-primary-key', `${f} joined the primary key`, [...h.path, 'primaryKey']);
  else if (b.primaryKey !== h.primaryKey || (b.primaryKey && b.primaryKeyPosition !== h.primaryKeyPosition)) add('warning', 'primary-key-changed', `the primary key changed at ${f}`, [...h.path, 'primaryKey']);
  const rb = CLASSIFICATION_RANK(b.classification);
  const rh = CLASSIFICATION_RANK(h.classification);
  if (rh < rb) add('error', 'classification-weakened', `${f} classification weakened from ${b.classification ?? 'none'} to ${h.classification ?? 'none'}`, [...h.path, 'classification']);
  else if (rh > rb) add('info', 'classification-strengthened', `${f} classification strengthened to ${h.classification}`, [...h.path, 'classification']);
  bounds(f, b, h, add);
  const pb = b.pattern ?? b.format;
  const ph = h.pattern ?? h.format;
  if (ph !== undefined && ph !== pb) add('error', 'pattern-tightened', `${f} now must match ${h.pattern !== undefined ? `pattern ${h.pattern}` : `format ${h.format}`}${pb !== undefined ? ` (was ${pb})` : ''}`, [...h.path, 'logicalTypeOptions']);
  else if (pb !== undefined && ph === undefined) add('info', 'pattern-loosened', `${f} no longer has to match ${pb}`, [...h.path, 'logicalTypeOptions']);
  if (b.partitioned !== h.partitioned) add('warning', 'partitioning-changed', `${f} ${h.partitioned ? 'became' : 'is no longer'} a partition column`, [...h.path, 'partitioned']);
  const rel = (p: ContractProperty): string => p.relationships.map((r) => r.to).sort().join(',');
  if (rel(b) !== rel(h)) add('warning', 'relationships-changed', `${f} relationships changed: [${rel(b)}] → [${rel(h)}]`, [...h.path, 'relationships']);
  if ((b.description ?? '') !== (h.description ?? '')) add('info', 'description-changed', `${f} description changed`, [...h.path, 'description']);
  diffRules(b.quality, h.quality, add, f);
}

/** Ranges and lengths: a higher minimum or a lower maximum tightens; the reverse loosens. */
function bounds(f: string, b: ContractProperty, h: ContractProperty, add: Add): void {
  const pairs: [string, 'min' | 'max', number | string | undefined, number | string | undefined][] = [
    ['minimum', 'min', b.minimum, h.minimum],
    ['exclusiveMinimum', 'min', b.exclusiveMinimum, h.exclusiveMinimum],
    ['maximum', 'max', b.maximum, h.maximum],
    ['exclusiveMaximum', 'max', b.exclusiveMaximum, h.exclusiveMaximum],
    ['minLength', 'min', b.minLength, h.minLength],
    ['maxLength', 'max', b.maxLength, h.maxLength],
  ];
  for (const [name, side, was, now] of pairs) {
    if (was === now) continue;
    const kind = name.includes('Length') ? 'length' : 'range';
    const path = [...h.path, 'logicalTypeOptions', name];
    if (now === undefined) add('info', `${kind}-loosened`, `${f} dropped ${name} ${String(was)}`, path);
    else if (was === undefined) add('error', `${kind}-tightened`, `${f} gained ${name} ${String(now)}`, path);
    else {
      const tighter = side === 'min' ? now > was : now < was;
      add(tighter ? 'error' : 'info', `${kind}-${tighter ? 'tightened' : 'loosened'}`, `${f} ${name} ${String(was)} → ${String(now)}`, path);
    }
  }
}

function widens(from: string, to: string): boolean {
  const a = from.toUpperCase();
  const b = to.toUpperCase();
  return WIDENING.some((chain) => chain.includes(a) && chain.includes(b) && chain.indexOf(b) > chain.indexOf(a));
}

function sameType(a: ContractProperty, b: ContractProperty): boolean {
  return a.logicalType === b.logicalType && (a.physicalType ?? '') === (b.physicalType ?? '');
}

/** Rules are matched by what they measure; new error rules and tightened comparisons break, the rest is info. */
function diffRules(base: readonly QualityRule[], head: readonly QualityRule[], add: Add, where: string): void {
  const keyOf = (q: QualityRule): string => JSON.stringify({ ...q.rule, validValues: undefined, query: undefined, name: q.name });
  const baseByKey = new Map(base.map((q) => [keyOf(q), q]));
  const headKeys = new Set(head.map(keyOf));
  for (const h of head) {
    const b = baseByKey.get(keyOf(h));
    const label = `${where}: ${h.name ?? ruleLabel(h)}`;
    if (!b) {
      if (h.severity === 'error') add('error', 'rule-added', `${label}: new error-level rule`, h.path);
      else add('info', 'rule-added-warning', `${label}: new warning-level rule`, h.path);
      continue;
    }
    if (b.severity === 'warning' && h.severity === 'error') add('error', 'rule-severity-raised', `${label}: warning → error`, h.path);
    if (b.severity === 'error' && h.severity === 'warning') add('info', 'rule-severity-lowered', `${label}: error → warning`, h.path);
    const t = tightening(b.comparison, h.comparison);
    if (t === 'tighter') add('error', 'rule-tightened', `${label}: ${describe(b.comparison)} → ${describe(h.comparison)}`, h.path);
    if (t === 'looser') add('info', 'rule-loosened', `${label}: ${describe(b.comparison)} → ${describe(h.comparison)}`, h.path);
    const was = b.rule.kind === 'metric' ? b.rule.validValues : undefined;
    const now = h.rule.kind === 'metric' ? h.rule.validValues : undefined;
    if (was && now) {
      const dropped = was.filter((v) => !now.includes(v));
      const gained = now.filter((v) => !was.includes(v));
      if (dropped.length > 0) add('error', 'values-tightened', `${label}: no longer accepts ${dropped.join(', ')}`, h.path);
      if (gained.length > 0) add('info', 'values-loosened', `${label}: now also accepts ${gained.join(', ')}`, h.path);
    }
    if ((b.rule.kind === 'sql' || b.rule.kind === 'failingRows') && (h.rule.kind === 'sql' || h.rule.kind === 'failingRows') && b.rule.query !== h.rule.query) {
      add('error', 'rule-query-changed', `${label}: its query changed`, h.path);
    }
  }
  for (const b of base) if (!headKeys.has(keyOf(b))) add('info', 'rule-removed', `${where}: ${b.name ?? ruleLabel(b)}: rule removed`, b.path, 'base');
}

function ruleLabel(q: QualityRule): string {
  const r = q.rule;
  return r.kind === 'metric' ? r.metric : r.kind === 'statistic' ? `${r.statistic}` : r.kind;
}

/** The set of accepted values of a comparison as an interval (or its complement). */
function interval(c: Comparison): { lo: number; hi: number; loIn: boolean; hiIn: boolean } | undefined {
  switch (c.op) {
    case 'mustBe': return { lo: c.value, hi: c.value, loIn: true, hiIn: true };
    case 'mustBeGreaterThan': return { lo: c.value, hi: Infinity, loIn: false, hiIn: false };
    case 'mustBeGreaterOrEqualTo': return { lo: c.value, hi: Infinity, loIn: true, hiIn: false };
    case 'mustBeLessThan': return { lo: -Infinity, hi: c.value, loIn: false, hiIn: false };
    case 'mustBeLessOrEqualTo': return { lo: -Infinity, hi: c.value, loIn: false, hiIn: true };
    case 'mustBeBetween': return { lo: c.value[0], hi: c.value[1], loIn: true, hiIn: true };
    default: return undefined;
  }
}

function tightening(b: Comparison, h: Comparison): 'same' | 'tighter' | 'looser' | 'changed' {
  if (JSON.stringify(b) === JSON.stringify(h)) return 'same';
  const x = interval(b);
  const y = interval(h);
  if (!x || !y) return 'tighter';
  const contains = (outer: typeof x, inner: typeof x): boolean =>
    (outer.lo < inner.lo || (outer.lo === inner.lo && (outer.loIn || !inner.loIn))) && (outer.hi > inner.hi || (outer.hi === inner.hi && (outer.hiIn || !inner.hiIn)));
  if (contains(x, y)) return 'tighter';
  if (contains(y, x)) return 'looser';
  return 'tighter';
}

function describe(c: Comparison): string {
  return Array.isArray(c.value) ? `${c.op} [${c.value.join(', ')}]` : `${c.op} ${c.value}`;
}
