/** Live, human progress lines for an execution, and its closing summary. */
import { unitName, type ExecutionEvent, type ProcessOutput, type QualityReport } from '../platform/bus/messages.ts';

export type Print = (line: string) => void;

const n = (v: number): string => v.toLocaleString('en-US');

export function progressLine(e: ExecutionEvent): string | undefined {
  switch (e.type) {
    case 'loop.started':
      return `  ↻ ${e.step}: ${e.items.length} item${e.items.length === 1 ? '' : 's'}`;
    case 'step.started':
      return `  … ${unitName(e)}`;
    case 'step.completed': {
      const what = e.result.kind === 'table' ? `${n(e.result.rows)} rows, ${n(e.result.bytes)} bytes` : e.result.kind === 'value' ? 'value' : e.result.kind === 'list' ? `${e.result.items.length} items` : 'done';
      return `  ✓ ${unitName(e)} (${what}, ${e.durationMs} ms)${e.quality ? `\n${gateLines(e.quality)}` : ''}${printedLines(e.output)}`;
    }
    case 'step.failed':
      return `  ✗ ${unitName(e)}: ${e.error.code}: ${e.error.message.split('\n').join('\n      ')}${printedLines(e.output)}`;
    case 'step.skipped':
      return `  - ${e.step} (skipped: no live path reached it)`;
    default:
      return undefined;
  }
}

/** The last lines a step's process printed (already redacted), indented under the step. */
function printedLines(output: ProcessOutput | undefined, max = 5): string {
  const lines = [...(output?.stdout ?? '').split('\n'), ...(output?.stderr ?? '').split('\n')].filter((l) => l.trim() !== '');
  if (lines.length === 0) return '';
  const shown = lines.slice(-max).map((l) => `      │ ${l}`);
  return `\n${lines.length > max ? `      │ … ${lines.length - max} more line(s)\n` : ''}${shown.join('\n')}`;
}

function gateLines(q: QualityReport): string {
  const failedWarnings = q.checks.filter((c) => !c.passed && c.severity === 'warning').length;
  const skipped = q.checks.filter((c) => c.skipped !== undefined).length;
  const passed = q.checks.filter((c) => c.passed && c.skipped === undefined).length;
  const head = `      gate ${q.productId}@${q.contractVersion}: ${q.passed ? 'passed' : 'FAILED'}, ${passed}/${q.checks.length} checks passed${skipped ? `, ${skipped} skipped` : ''}${failedWarnings ? `, ${failedWarnings} warnings` : ''}`;
  const scope = q.partitions ? ` on partitions ${q.partitions.map((p) => Object.entries(p).map(([k, v]) => `${k}=${String(v)}`).join(',')).join(' ')}` : '';
  return q.passed ? `${head}${scope}; published` : `${head}${scope}`;
}
