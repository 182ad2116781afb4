/**
 * Every contract changed since a git base, classified, with the version rules
 * applied and the downstream impact of breaking changes. What a pull request
 * check reports.
 */
import type { Diagnostic } from '../../common/diagnostics.ts';
import { parseYaml } from '../../common/yaml-source.ts';
import { diffContracts, parseContract, versionFindings, type Contract, type ContractChange } from '../../contracts/index.ts';
import type { DomainsSnapshot } from '../../platform/index.ts';
import { changedFiles, fileAt } from './git.ts';
import { impactOf, playbookIO, productGraph, type Impact } from './impact.ts';

export interface LocatedChange extends ContractChange {
  file: string;
  line: number;
  col: number;
}

export interface ContractReport {
  productId: string;
  file: string;
  kind: 'added' | 'modified' | 'removed';
  baseVersion: string | undefined;
  headVersion: string | undefined;
  changes: LocatedChange[];
  /** Findings that fail the check: versions, removals in use. */
  failures: LocatedChange[];
  impact: Impact | undefined;
}

export function contractChanges(base: string, domainsDir: string, snapshot: DomainsSnapshot): { reports: ContractReport[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const playbooks = playbookIO(snapshot);
  const files = changedFiles(base, domainsDir).filter((f) => f.file.endsWith('.odcs.yaml'));
  const headByFile = new Map([...snapshot.products.values()].map((c) => [c.file, c]));
  const edges = productGraph(snapshot, playbooks);
  const baseContracts = new Map<string, { contract: Contract; file: string }>();
  for (const f of files) {
    if (f.status === 'added') continue;
    const text = fileAt(base, f.file);
    if (text === undefined) continue;
    const parsed = parseContract(text, `${base}:${f.file}`);
    if (parsed.contract) baseContracts.set(parsed.contract.productId, { contract: parsed.contract, file: f.file });
    else diagnostics.push({ file: f.file, line: 1, col: 1, code: 'E_CONTRACT_INVALID', severity: 'info', message: `the base version (${base}) of this contract does not parse; it is compared as new` });
  }
  const reports: ContractReport[] = [];
  const seen = new Set<string>();
  for (const f of files) {
    const head = headByFile.get(f.file);
    if (!head) continue; // deleted, or invalid in the head (its diagnostics say why)
    const id = head.contract.productId;
    seen.add(id);
    const locate = locator(head.file, head.text);
    const b = baseContracts.get(id);
    if (!b) {
      reports.push({ productId: id, file: head.file, kind: 'added', baseVersion: undefined, headVersion: head.contract.version, changes: [locate({ severity: 'info', rule: 'product-added', message: `new product ${id} ${head.contract.version}`, path: ['id'], side: 'head' })], failures: [], impact: undefined });
      continue;
    }
    const changes = diffContracts(b.contract, head.contract);
    const failures = versionFindings(b.contract, head.contract, changes);
    const breaking = changes.some((c) => c.severity === 'error');
    reports.push({
      productId: id,
      file: head.file,
      kind: 'modified',
      baseVersion: b.contract.version,
      headVersion: head.contract.version,
      changes: changes.map(locate),
      failures: failures.map(locate),
      impact: breaking ? impactOf(id, snapshot, playbooks, edges) : undefined,
    });
  }
  for (const [id, b] of baseContracts) {
    if (seen.has(id) || snapshot.products.has(id)) continue;
    const impact = impactOf(id, snapshot, playbooks, edges);
    const inUse = impact.playbooks.length > 0;
    const finding: LocatedChange = {
      severity: inUse ? 'error' : 'warning',
      rule: inUse ? 'product-removed-in-use' : 'product-removed',
      message: inUse ? `product ${id} was removed but ${impact.playbooks.join(', ')} still consume${impact.playbooks.length > 1 ? '' : 's'} it` : `product ${id} was removed`,
      path: [],
      side: 'base',
      file: b.file,
      line: 1,
      col: 1,
    };
    reports.push({ productId: id, file: b.file, kind: 'removed', baseVersion: b.contract.version, headVersion: undefined, changes: [], failures: inUse ? [finding] : [], impact });
    if (!inUse) reports.at(-1)!.changes.push(finding);
  }
  return { reports: reports.sort((x, y) => x.productId.localeCompare(y.productId)), diagnostics };
}

/** Positions for changes in the head file; a change to something that is gone points at its parent. */
function locator(file: string, text: string): (c: ContractChange) => LocatedChange {
  const source = parseYaml(text, file);
  return (c) => {
    const path = c.side === 'base' ? c.path.slice(0, -1) : c.path;
    return { ...c, ...source.locate(path) };
  };
}
