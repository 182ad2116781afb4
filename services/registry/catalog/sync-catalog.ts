/**
 * Writes the domains folder into the catalog: domains, products with their
 * contract versions, playbooks with their versions. All in one transaction, so
 * a sync that fails half-way changes nothing. Files with errors are not synced:
 * the caller reports them.
 */
import { sql } from 'kysely';
import type { Db, DomainsSnapshot } from '../../../platform/index.ts';
import { parseYaml } from '../../../common/yaml-source.ts';

export interface SyncReport {
  domains: number;
  products: number;
  playbooks: number;
}

export async function syncCatalog(db: Db, snapshot: DomainsSnapshot): Promise<SyncReport> {
  const report: SyncReport = { domains: 0, products: 0, playbooks: 0 };
  await db.transaction().execute(async (tx) => {
    const now = sql<Date>`now()`;
    for (const d of snapshot.domains) {
      await tx
        .insertInto('domains')
        .values({ name: d.name, description: d.description ?? null, owners: JSON.stringify(d.owners) })
        .onConflict((oc) => oc.column('name').doUpdateSet({ description: d.description ?? null, owners: JSON.stringify(d.owners), updated_at: now }))
        .execute();
      report.domains++;
      for (const c of d.contracts) {
        const k = c.contract;
        const product = { domain: d.name, name: k.dataProduct, description: k.description ?? null, owners: JSON.stringify(k.owners), status: k.status, contract_version: k.version };
        await tx
          .insertInto('products')
          .values({ id: k.productId, ...product })
          .onConflict((oc) => oc.column('id').doUpdateSet({ ...product, updated_at: now }))
          .execute();
        const version = { sha256: c.sha256, body: JSON.stringify(k), source: c.text, file: c.file };
        await tx
          .insertInto('contract_versions')
          .values({ product_id: k.productId, version: k.version, ...version })
          .onConflict((oc) => oc.columns(['product_id', 'version']).doUpdateSet(version))
          .execute();
        report.products++;
      }
      for (const p of d.playbooks) {
        const ref = `${d.name}/${p.name}`;
        const meta = parseYaml(p.text, p.file).value as { metadata?: { description?: unknown } } | undefined;
        const description = typeof meta?.metadata?.description === 'string' ? meta.metadata.description : null;
        await tx
          .insertInto('playbooks')
          .values({ ref, domain: d.name, name: p.name, description, current_sha: p.sha256 })
          .onConflict((oc) => oc.column('ref').doUpdateSet({ description, current_sha: p.sha256, updated_at: now }))
          .execute();
        await tx
          .insertInto('playbook_versions')
          .values({ ref, sha256: p.sha256, source: p.text, file: p.file })
          .onConflict((oc) => oc.columns(['ref', 'sha256']).doNothing())
          .execute();
        report.playbooks++;
      }
    }
  });
  return report;
}
