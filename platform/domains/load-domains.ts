/**
 * Reads the `domains/` folder: each `domains/<domain>/` has a `domain.yaml`,
 * `products/*.odcs.yaml` contracts and `playbooks/*.yaml`. Contracts are parsed
 * and validated here; playbooks are returned as text for the orchestrator's
 * DSL to parse. Every problem comes back as a positioned diagnostic.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from '../../common/diagnostics.ts';
import { parseYaml } from '../../common/yaml-source.ts';
import { parseContract, type Contract } from '../../contracts/index.ts';

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
  if (!fs.existsSync(domainsDir)) {
    diagnostics.push({ file: rel(domainsDir), line: 1, col: 1, code: 'E_DOMAIN_INVALID', severity: 'error', message: 'the domains folder does not exist' });
    return { domains, diagnostics, products };
  }
  for (const name of listDirs(domainsDir)) {
    const dir = path.join(domainsDir, name);
    const domain: LoadedDomain = { name, description: undefined, owners: [], contracts: [], playbooks: [] };
    const domainFile = path.join(dir, 'domain.yaml');
    if (!/^[a-z][a-z0-9_]*$/.test(name)) {
      diagnostics.push({ file: rel(dir), line: 1, col: 1, code: 'E_DOMAIN_INVALID', severity: 'error', message: `domain folder "${name}" must be lower_snake_case` });
      continue;
    }
    if (!fs.existsSync(domainFile)) {
      diagnostics.push({ file: rel(domainFile), line: 1, col: 1, code: 'E_DOMAIN_INVALID', severity: 'error', message: `domain "${name}" has no domain.yaml` });
    } else {
      const src = parseYaml(fs.readFileSync(domainFile, 'utf8'), rel(domainFile));
      diagnostics.push(...src.diagnostics);
      const v = src.value as { description?: unknown; owners?: unknown } | undefined;
      if (src.diagnostics.length === 0) {
        if (!v || typeof v !== 'object' || !Array.isArray(v.owners) || v.owners.length === 0 || !v.owners.every((o) => typeof o === 'string')) {
          diagnostics.push({ ...src.locate(['owners']), code: 'E_DOMAIN_INVALID', severity: 'error', message: 'domain.yaml must list owners (a non-empty list of names)' });
        } else {
          domain.owners = v.owners;
          domain.description = typeof v.description === 'string' ? v.description : undefined;
        }
      }
    }
    for (const f of listFiles(path.join(dir, 'products'), '.odcs.yaml')) {
      const file = readSource(f, rel);
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
    }
    for (const f of listFiles(path.join(dir, 'playbooks'), '.yaml')) {
      domain.playbooks.push({ ...readSource(f, rel), name: path.basename(f, '.yaml') });
    }
    domains.push(domain);
  }
  return { domains, diagnostics, products };
}

function readSource(file: string, rel: (p: string) => string): SourceFile {
  const text = fs.readFileSync(file, 'utf8');
  return { file: rel(file), text, sha256: createHash('sha256').update(text).digest('hex') };
}

function listDirs(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
}

function listFiles(dir: string, suffix: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith(suffix)).sort().map((f) => path.join(dir, f));
}
