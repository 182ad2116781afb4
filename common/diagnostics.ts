/**
 * Diagnostics are expected failures reported as data: a checker returns a list
 * of them instead of throwing, so one run can report every problem at once.
 */
import type { ErrorCode, SourceLocation } from './errors.ts';

export type Severity = 'error' | 'warning' | 'info';

export interface Diagnostic extends SourceLocation {
  code: ErrorCode;
  severity: Severity;
  message: string;
}

/** `file:line:col: severity CODE: message`, the form editors and CI understand. */
export function formatDiagnostic(d: Diagnostic): string {
  const sev = d.severity === 'error' ? '' : `${d.severity} `;
  return `${d.file}:${d.line}:${d.col}: ${sev}${d.code}: ${d.message}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
}
