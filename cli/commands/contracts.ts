/**
 * `noetl contracts …`: diff two versions of a contract, test a product's current
 * data against its contract, export a contract to JSON Schema or SQL DDL.
 */
import fs from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { formatDiagnostic } from '../../common/diagnostics.ts';
import { NoetlError } from '../../common/errors.ts';
import { diffContracts, parseContract, toDdl, toJsonSchema, versionFindings, type Contract } from '../../contracts/index.ts';
import type { Config } from '../../platform/index.ts';
import { ExecutionStore } from '../../services/orchestrator/index.ts';
import { LocalArtifactStore } from '../../platform/index.ts';
import { describeGateFailure, runQualityGate } from '../../services/worker/index.ts';
import { fileAt } from '../contracts/git.ts';
import type { Print } from '../progress.ts';
import { checkDomains, openCatalog } from '../runtime.ts';

/** A contract from a file path or `<git-ref>:<path>`. */
function readContract(spec: string): { contract: Contract; name: string } {
  let text: string | undefined;
  if (fs.existsSync(spec)) text = fs.readFileSync(spec, 'utf8');
  else if (spec.includes(':')) text = fileAt(spec.slice(0, spec.indexOf(':')), spec.slice(spec.indexOf(':') + 1));
  if (text === undefined) throw new NoetlError('E_REQUEST_INVALID', `no contract at ${spec} (a file path, or <git-ref>:<path>)`);
  const parsed = parseContract(text, spec);
  if (!parsed.contract) throw new NoetlError('E_CONTRACT_INVALID', `${spec} is not a valid contract:\n${parsed.diagnostics.map(formatDiagnostic).join('\n')}`);
  return { contract: parsed.contract, name: spec };
}

export function contractsDiffCommand(a: string, b: string, format: 'text' | 'json', print: Print): number {
  const base = readContract(a);
  const head = readContract(b);
  const changes = diffContracts(base.contract, head.contract);
  const failures = versionFindings(base.contract, head.contract, changes);
  if (format === 'json') {
    print(JSON.stringify({ base: a, head: b, changes, failures }, null, 2));
  } else {
    print(`${head.contract.productId}: ${base.contract.version} → ${head.contract.version}`);
    for (const f of failures) print(`  error ${f.rule}: ${f.message}`);
    for (const c of changes) print(`  ${c.severity === 'error' ? 'breaking' : c.severity} ${c.rule}: ${c.message}`);
    if (changes.length === 0) print('  no changes');
  }
  return failures.length > 0 ? 1 : 0;
}

export function contractsExportCommand(config: Config, spec: string, format: 'jsonschema' | 'ddl', print: Print): number {
  const known = checkDomains(config.domainsDir).snapshot.products.get(spec)?.contract;
  const contract = known ?? readContract(spec).contract;
  print(format === 'ddl' ? toDdl(contract) : JSON.stringify(toJsonSchema(contract), null, 2));
  return 0;
}

/** Runs a product's checks on its current published data. */
export async function contractsTestCommand(config: Config, productId: string, print: Print): Promise<number> {
  const { database, checked } = await openCatalog(config);
  const duck = await DuckDBInstance.create(':memory:');
  try {
    const contract = checked.snapshot.products.get(productId)?.contract;
    if (!contract) throw new NoetlError('E_PRODUCT_NOT_FOUND', `no product "${productId}" in ${config.domainsDir}`);
    const store = new ExecutionStore(database.db);
    const { references } = await store.gateReferences(contract);
    const published = await database.db
      .selectFrom('materializations as m')
      .innerJoin('artifacts as a', 'a.uri', 'm.artifact_uri')
      .select(['m.id', 'a.uri', 'a.schema', 'a.rows', 'a.bytes', 'a.sha256'])
      .where('m.product_id', '=', productId)
      .where('m.status', '=', 'published')
      .orderBy('m.created_at', 'desc')
      .limit(2)
      .execute();
    const current = published[0];
    if (!current) throw new NoetlError('E_PRODUCT_NOT_PUBLISHED', `product "${productId}" has no published version yet; build it first`);
    const artifacts = new LocalArtifactStore(config.artifactsDir);
    const conn = await duck.connect();
    const outcome = await runQualityGate(conn, contract, {
      file: artifacts.resolve(current.uri),
      actual: { kind: 'table', uri: current.uri, format: 'parquet', schema: current.schema, rows: Number(current.rows), bytes: Number(current.bytes), sha256: current.sha256 },
      refs: Object.fromEntries(Object.entries(references).map(([k, r]) => [k, { file: artifacts.resolve(r.uri), rows: r.rows }])),
      previous: published[1] ? artifacts.resolve(published[1].uri) : undefined,
    });
    conn.closeSync();
    print(`${productId}@${contract.version} on ${current.id} (${Number(current.rows).toLocaleString('en-US')} rows): ${outcome.passed ? 'passed' : 'FAILED'}`);
    for (const p of outcome.conformance) print(`  ${p.severity.padEnd(7)} schema ${p.column}: ${p.message}`);
    for (const c of outcome.checks) {
      const state = c.skipped !== undefined ? 'skipped' : c.passed ? 'ok' : c.severity === 'error' ? 'FAILED' : 'warning';
      print(`  ${state.padEnd(7)} ${c.id}: ${c.title}: expected ${c.expected}, observed ${c.observed ?? '—'}${c.skipped ? ` (${c.skipped})` : ''}`);
    }
    if (!outcome.passed) print(describeGateFailure(productId, outcome));
    return outcome.passed ? 0 : 1;
  } finally {
    duck.closeSync();
    await database.close();
  }
}
