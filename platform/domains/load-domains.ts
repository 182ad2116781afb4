/**
 * Reads the `domains/` folder: each `domains/<domain>/` has a `domain.yaml`,
 * `products/*.odcs.yaml` contracts and `playbooks/*.yaml`. Contracts are parsed
 * and validated here (relationships across contracts included); playbooks are
 * returned as text for the orchestrator's DSL to parse. Every problem comes
 * back as a positioned diagnostic, a file that cannot be read too (see
 * read-source.ts): one bad file never hides the others.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from '../../common/diagnostics.ts';
import { parseYaml } from '../../common/yaml-source.ts';
import { checkRelationships, parseContract, type Contract, type ParsedContract } from '../../contracts/index.ts';
import { accessProblem, domainsRoot, readSourceText, resolveInside, type SourceProblem } from './read-source.ts';

export interface SourceFile {
  /** Path relative to the working directory, as printed in diagnostics. */
  file: string;
  text: string;
  sha256: string;
}

export interface LoadedContract extends SourceFile {
  contract: Contract;
}

export interface LoadedPlaybook extends SourceFile {
  name: string;
}

export interface LoadedDomain {
  name: string;
  description: string | undefined;
  owners: string[];
  contracts: LoadedContract[];
  playbooks: LoadedPlaybook[];
}

export interface DomainsSnapshot {
  domains: LoadedDomain[];
  diagnostics: Diagnostic[];
  /** Product id → contract, across all domains. */
  products: Map<string, LoadedContract>;
}

export function loadDomains(domainsDir: string, cwd: string = process.cwd()): DomainsSnapshot {
  const diagnostics: Diagnostic[] = [];
  const domains: LoadedDomain[] = [];
  const products = new Map<string, LoadedContract>();
  const rel = (p: string): string => path.relative(cwd, p) || p;
  const problem = (p: string, found: SourceProblem): void => {
    diagnostics.push({ file: rel(p), line: found.line, col: found.col, code: found.code, severity: 'error', message: `${rel(p)} ${found.message}` });
  };
  if (!fs.existsSync(domainsDir)) {
    diagnostics.push({ file: rel(domainsDir), line: 1, col: 1, code: 'E_DOMAIN_INVALID', severity: 'error', message: 'the domains folder does not exist' });
    return { domains, diagnostics, products };
  }
  const root = domainsRoot(domainsDir);
  if (typeof root !== 'string') {
    problem(domainsDir, root);
    return { domains, diagnostics, products };
  }
  const read = (file: string): SourceFile | undefined => {
    const source = readSourceText(file, root);
    if (source.problem) {
      problem(file, source.problem);
      return undefined;
    }
    return { file: rel(file), text: source.text, sha256: createHash('sha256').update(source.text).digest('hex') };
  };
  const parsedContracts: ParsedContract[] = [];
  for (const name of listDomains(domainsDir, root, problem)) {
    const dir = path.join(domainsDir, name);
    const domain: LoadedDomain = { name, description: undefined, owners: [], contracts: [], playbooks: [] };
    const domainFile = path.join(dir, 'domain.yaml');
    if (!/^[a-z][a-z0-9_]*$/.test(name)) {
      diagnostics.push({ file: rel(dir), line: 1, col: 1, code: 'E_DOMAIN_INVALID', severity: 'error', message: `domain folder "${name}" must be lower_snake_case` });
      continue;
    }
    if (!entryExists(domainFile)) {
      diagnostics.push({ file: rel(domainFile), line: 1, col: 1, code: 'E_DOMAIN_INVALID', severity: 'error', message: `domain "${name}" has no domain.yaml` });
    } else {
      const file = read(domainFile);
      const src = file && parseYaml(file.text, file.file);
      if (src) diagnostics.push(...src.diagnostics);
      const v = src?.value as { description?: unknown; owners?: unknown } | undefined;
      if (src && src.diagnostics.length === 0) {
        if (!v || typeof v !== 'object' || !Array.isArray(v.owners) || v.owners.length === 0 || !v.owners.every((o) => typeof o === 'string')) {
          diagnostics.push({ ...src.locate(['owners']), code: 'E_DOMAIN_INVALID', severity: 'error', message: 'domain.yaml must list owners (a non-empty list of names)' });
        } else {
          domain.owners = v.owners;
          domain.description = typeof v.description === 'string' ? v.description : undefined;
        }
      }
    }
    for (const f of listFiles(path.join(dir, 'products'), '.odcs.yaml', problem)) {
      const file = read(f);
      if (!file) continue;
      const parsed = parseContract(file.text, file.file);
      diagnostics.push(...parsed.diagnostics);
      if (!parsed.contract) continue;
      if (parsed.contract.domain !== name) {
        diagnostics.push({ ...parsed.source.locate(['domain']), code: 'E_CONTRACT_INVALID', severity: 'error', message: `contract says domain "${parsed.contract.domain}" but lives in domains/${name}/` });
        continue;
      }
      const loaded = { ...file, contract: parsed.contract };
      const prior = products.get(parsed.contract.productId);
      if (prior) {
        diagnostics.push({ ...parsed.source.locate(['id']), code: 'E_CONTRACT_DUPLICATE', severity: 'error', message: `product "${parsed.contract.productId}" is also declared in ${prior.file}` });
        continue;
      }
      products.set(parsed.contract.productId, loaded);
      domain.contracts.push(loaded);
      parsedContracts.push({ contract: parsed.contract, source: parsed.source });
    }
    for (const f of listFiles(path.join(dir, 'playbooks'), '.yaml', problem)) {
      const file = read(f);
      if (file) domain.playbooks.push({ ...file, name: path.basename(f, '.yaml') });
    }
    domains.push(domain);
  }
  diagnostics.push(...checkRelationships(parsedContracts));
  return { domains, diagnostics, products };
}

type ReportProblem = (path: string, problem: SourceProblem) => void;

/** The domain folders: directories, and links to directories inside the domains folder (a broken link is reported, not skipped). */
function listDomains(domainsDir: string, root: string, report: ReportProblem): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(domainsDir, { withFileTypes: true });
  } catch (e) {
    report(domainsDir, accessProblem(e, 'folder'));
    return [];
  }
  const names: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    if (entry.isDirectory()) names.push(entry.name);
    else if (entry.isSymbolicLink()) {
      const target = resolveInside(path.join(domainsDir, entry.name), root);
      if (target.problem) report(path.join(domainsDir, entry.name), target.problem);
      else if (isDirectory(target.real)) names.push(entry.name);
    }
  }
  return names.sort();
}

/** The files of a folder whose names end in `suffix`, sorted; a folder that is there but cannot be listed is reported. */
function listFiles(dir: string, suffix: string, report: ReportProblem): string[] {
  if (!entryExists(dir)) return [];
  try {
    return fs.readdirSync(dir).filter((f) => f.endsWith(suffix)).sort().map((f) => path.join(dir, f));
  } catch (e) {
    report(dir, accessProblem(e, 'folder'));
    return [];
  }
}

/** Whether a path names something, a broken link included (which reading then reports). */
function entryExists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
