/** `noetl check`: validates every file under domains/, one `file:line:col: code: message` per problem. */
import { formatDiagnostic, hasErrors, sortDiagnostics } from '../../common/diagnostics.ts';
import type { Print } from '../progress.ts';
import { checkDomains } from '../runtime.ts';

export function checkCommand(domainsDir: string, format: 'text' | 'json', print: Print): number {
  const { snapshot, playbooks, diagnostics } = checkDomains(domainsDir);
  const sorted = sortDiagnostics(diagnostics);
  if (format === 'json') {
    print(JSON.stringify({ ok: !hasErrors(sorted), diagnostics: sorted }, null, 2));
  } else {
    for (const d of sorted) print(formatDiagnostic(d));
    const errors = sorted.filter((d) => d.severity === 'error').length;
    const contracts = snapshot.domains.reduce((a, d) => a + d.contracts.length, 0);
    print(`${errors === 0 ? 'ok' : `${errors} error${errors === 1 ? '' : 's'}`}: ${snapshot.domains.length} domains, ${contracts} contracts, ${playbooks.length} valid playbooks checked`);
  }
  return hasErrors(sorted) ? 1 : 0;
}
