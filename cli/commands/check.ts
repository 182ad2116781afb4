/**
 * `noetl check [--base <git-ref>] [--format text|github|markdown|json]`: every
 * file under domains/ validated with positions, every playbook statically
 * checked, and with --base every changed contract classified against the base,
 * with the version rules and the downstream impact of breaking changes.
 * Exit 1 on any error.
 */
import { hasErrors, sortDiagnostics } from '../../common/diagnostics.ts';
import { NoetlError } from '../../common/errors.ts';
import { contractChanges } from '../contracts/changes.ts';
import { withRegistryLineage } from '../contracts/impact.ts';
import { formatGithub, formatJson, formatMarkdown, formatText, type CheckFormat, type CheckOutcome } from '../contracts/report-formats.ts';
import type { Print } from '../progress.ts';
import { checkDomains } from '../runtime.ts';

export async function checkCommand(domainsDir: string, options: { format: CheckFormat; base?: string; server?: string }, print: Print): Promise<number> {
  const { snapshot, playbooks, diagnostics } = checkDomains(domainsDir);
  const changes = options.base ? contractChanges(options.base, domainsDir, snapshot) : { reports: [], diagnostics: [] };
  if (options.server) {
    for (const r of changes.reports) {
      if (r.impact) r.impact = await withRegistryLineage(r.impact, r.productId, options.server, snapshot).catch((e: unknown) => {
        throw new NoetlError('E_REQUEST_INVALID', `cannot read lineage from ${options.server}: ${(e as Error).message}`, { cause: e });
      });
    }
  }
  const all = sortDiagnostics([...diagnostics, ...changes.diagnostics]);
  const errors = all.filter((d) => d.severity === 'error').length + changes.reports.reduce((n, r) => n + r.failures.length, 0);
  const breaking = changes.reports.reduce((n, r) => n + r.changes.filter((c) => c.severity === 'error').length, 0);
  const contracts = snapshot.domains.reduce((a, d) => a + d.contracts.length, 0);
  const parts = [
    errors === 0 ? 'ok' : `${errors} error${errors === 1 ? '' : 's'}`,
    `${snapshot.domains.length} domains, ${contracts} contracts, ${playbooks.length} valid playbooks checked`,
    ...(options.base ? [`${changes.reports.length} contract${changes.reports.length === 1 ? '' : 's'} changed since ${options.base}${breaking ? ` (${breaking} breaking change${breaking === 1 ? '' : 's'})` : ''}`] : []),
  ];
  const outcome: CheckOutcome = { base: options.base, diagnostics: all, reports: changes.reports, summary: parts.join(': ').replace(/: (\d+ contract)/, '; $1'), ok: errors === 0 && !hasErrors(all) };
  const lines = { text: formatText, github: formatGithub, markdown: formatMarkdown, json: formatJson }[options.format](outcome);
  for (const l of lines) print(l);
  return outcome.ok ? 0 : 1;
}
