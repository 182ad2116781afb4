/** The four ways `noetl check` reports: text for people, GitHub annotations, a Markdown PR comment, JSON. */
import { formatDiagnostic, type Diagnostic } from '../../common/diagnostics.ts';
import type { ContractReport, LocatedChange } from './changes.ts';

export type CheckFormat = 'text' | 'github' | 'markdown' | 'json';

export interface CheckOutcome {
  base: string | undefined;
  diagnostics: Diagnostic[];
  reports: ContractReport[];
  summary: string;
  ok: boolean;
}

const label = (c: LocatedChange, failing: boolean): string => (failing ? 'error' : c.severity === 'error' ? 'breaking' : c.severity);

function impactText(r: ContractReport): string | undefined {
  if (!r.impact || (r.impact.products.length === 0 && r.impact.playbooks.length === 0)) return undefined;
  const products = r.impact.products.map((p) => `${p.id} (${p.domain}${p.owners.length ? `; ${p.owners.join(', ')}` : ''})`).join(', ');
  return `downstream: ${products || 'no products'}; playbooks: ${r.impact.playbooks.join(', ') || 'none'}; domains: ${r.impact.domains.join(', ')}`;
}

export function formatText(o: CheckOutcome): string[] {
  const lines = o.diagnostics.map(formatDiagnostic);
  for (const r of o.reports) {
    lines.push(`${r.productId}: ${r.kind}${r.baseVersion || r.headVersion ? ` (${r.baseVersion ?? '—'} → ${r.headVersion ?? '—'})` : ''}`);
    for (const c of r.failures) lines.push(`  ${c.file}:${c.line}:${c.col}: error ${c.rule}: ${c.message}`);
    for (const c of r.changes) lines.push(`  ${c.file}:${c.line}:${c.col}: ${label(c, false)} ${c.rule}: ${c.message}`);
    const impact = impactText(r);
    if (impact) lines.push(`  ${impact}`);
  }
  lines.push(o.summary);
  return lines;
}

const escapeData = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProp = (s: string): string => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** GitHub workflow commands: one annotation per problem, on its file and line. */
export function formatGithub(o: CheckOutcome): string[] {
  const lines: string[] = [];
  const annotate = (level: 'error' | 'warning' | 'notice', file: string, line: number, col: number, title: string, message: string): void => {
    lines.push(`::${level} file=${escapeProp(file)},line=${line},col=${col},title=${escapeProp(title)}::${escapeData(message)}`);
  };
  for (const d of o.diagnostics) annotate(d.severity === 'error' ? 'error' : d.severity === 'warning' ? 'warning' : 'notice', d.file, d.line, d.col, d.code, d.message);
  for (const r of o.reports) {
    const impact = impactText(r);
    for (const c of r.failures) annotate('error', c.file, c.line, c.col, `noetl ${c.rule}`, impact ? `${c.message}\n${impact}` : c.message);
    for (const c of r.changes) annotate(c.severity === 'error' ? 'warning' : c.severity === 'warning' ? 'warning' : 'notice', c.file, c.line, c.col, `noetl ${label(c, false)}: ${c.rule}`, c.message);
  }
  lines.push(o.summary);
  return lines;
}

/** A pull-request comment. */
export function formatMarkdown(o: CheckOutcome): string[] {
  const lines = [`## noetl contract check${o.base ? ` against \`${o.base}\`` : ''}: ${o.ok ? '✅ passed' : '❌ failed'}`, '', o.summary, ''];
  if (o.diagnostics.length > 0) {
    lines.push('### Problems in files', '', '| where | code | message |', '|---|---|---|');
    for (const d of o.diagnostics) lines.push(`| \`${d.file}:${d.line}:${d.col}\` | ${d.code} | ${cell(d.message)} |`);
    lines.push('');
  }
  for (const r of o.reports) {
    const verdict = r.failures.length > 0 ? '❌' : r.changes.some((c) => c.severity === 'error') ? '⚠️ breaking, major version bumped' : '✅';
    lines.push(`### \`${r.productId}\` ${r.kind}${r.baseVersion || r.headVersion ? ` ${r.baseVersion ?? '—'} → ${r.headVersion ?? '—'}` : ''} ${verdict}`, '');
    if (r.failures.length + r.changes.length > 0) {
      lines.push('| | rule | change | where |', '|---|---|---|---|');
      for (const c of r.failures) lines.push(`| **error** | \`${c.rule}\` | ${cell(c.message)} | \`${c.file}:${c.line}\` |`);
      for (const c of r.changes) lines.push(`| ${label(c, false)} | \`${c.rule}\` | ${cell(c.message)} | \`${c.file}:${c.line}\` |`);
      lines.push('');
    }
    if (r.impact && (r.impact.products.length > 0 || r.impact.playbooks.length > 0)) {
      lines.push('**Downstream:**', '');
      for (const p of r.impact.products) lines.push(`- \`${p.id}\` (domain ${p.domain}${p.owners.length ? `, owners ${p.owners.join(', ')}` : ''})`);
      if (r.impact.playbooks.length) lines.push(`- playbooks reading it: ${r.impact.playbooks.map((p) => `\`${p}\``).join(', ')}`);
      lines.push('');
    }
  }
  return lines;
}

export function formatJson(o: CheckOutcome): string[] {
  return [JSON.stringify(o, null, 2)];
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
