/** Live, human progress lines for an execution, and its closing summary. */
import { unitName, type ExecutionEvent, type ProcessOutput, type QualityReport } from '../platform/bus/messages.ts';

export type Print = (line: string) => void;

const n = (v: number): string => v.toLocaleString('en-US');

export function progressLine(e: ExecutionEvent): string | undefined {
  switch (e.type) {
    case 'loop.started':
      return `  ↻ ${e.step}: ${n(e.items.length)} item${e.items.length === 1 ? '' : 's'}`;
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

/** Loops with more items than this get a line per tenth of their items instead of two per item. */
export const LOOP_DETAIL_ITEMS = 20;

/**
 * Progress lines for one execution, as `progressLine` gives them, except that a
 * big loop reports its items by the tenth (`↻ each: 3,000/10,000 items done`)
 * instead of two lines per item; an item that fails is always shown.
 */
export class Progress {
  private readonly loops = new Map<string, { total: number; done: number; reported: number }>();

  line(e: ExecutionEvent): string | undefined {
    if (e.type === 'loop.started') this.loops.set(loopKey(e), { total: e.items.length, done: 0, reported: 0 });
    const loop = 'iteration' in e && e.iteration !== undefined ? this.loops.get(loopKey(e)) : undefined;
    if (!loop || loop.total <= LOOP_DETAIL_ITEMS || e.type === 'step.failed') return progressLine(e);
    if (e.type !== 'step.completed') return undefined;
    loop.done++;
    const tenth = Math.floor((loop.done * 10) / loop.total);
    if (tenth === loop.reported) return undefined;
    loop.reported = tenth;
    return `  ↻ ${e.step}: ${n(loop.done)}/${n(loop.total)} items done`;
  }
}

function loopKey(e: { executionId: string; step: string; run?: number }): string {
  return `${e.executionId}/${e.step}@${e.run ?? 1}`;
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
