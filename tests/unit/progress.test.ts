/** Progress lines: every step, and a big loop by the tenth of its items, failures always. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LOOP_DETAIL_ITEMS, Progress } from '../../cli/progress.ts';
import type { ExecutionEvent } from '../../platform/bus/messages.ts';

const at = new Date(0).toISOString();
const ev = (body: Record<string, unknown>, executionId = 'x'): ExecutionEvent => ({ ...body, eventId: String(Math.random()), executionId, at }) as unknown as ExecutionEvent;

function runLoop(p: Progress, items: number, failAt?: number): string[] {
  const lines: string[] = [];
  const push = (e: ExecutionEvent): void => {
    const l = p.line(e);
    if (l !== undefined) lines.push(l);
  };
  push(ev({ type: 'loop.started', step: 'each', items: Array.from({ length: items }, (_, i) => i) }));
  for (let i = 0; i < items; i++) {
    push(ev({ type: 'step.started', step: 'each', attempt: 1, iteration: i, worker: 'w' }));
    if (i === failAt) push(ev({ type: 'step.failed', step: 'each', attempt: 1, iteration: i, error: { code: 'E_TOOL_FAILED', message: 'boom', retryable: true }, durationMs: 1 }));
    else push(ev({ type: 'step.completed', step: 'each', attempt: 1, iteration: i, result: { kind: 'none' }, durationMs: 1 }));
  }
  return lines;
}

describe('progress lines', () => {
  it('show each item of a small loop', () => {
    const lines = runLoop(new Progress(), 3);
    assert.equal(lines.length, 1 + 2 * 3);
    assert.match(lines[1]!, /… each\[0\]/);
  });

  it('show a big loop by the tenth of its items, and a failed item always', () => {
    const lines = runLoop(new Progress(), 1000, 500);
    assert.ok(1000 > LOOP_DETAIL_ITEMS);
    assert.equal(lines[0], '  ↻ each: 1,000 items');
    const tenths = lines.filter((l) => /items done$/.test(l));
    assert.deepEqual(tenths.at(0), '  ↻ each: 100/1,000 items done');
    assert.ok(tenths.length >= 9 && tenths.length <= 10, tenths.join('\n'));
    assert.equal(lines.filter((l) => /✗ each\[500\]: E_TOOL_FAILED: boom/.test(l)).length, 1);
    assert.ok(lines.length <= 12, `${lines.length} lines`);
  });

  it('keep loops of different executions apart', () => {
    const p = new Progress();
    p.line(ev({ type: 'loop.started', step: 'each', items: Array.from({ length: 100 }, (_, i) => i) }, 'a'));
    // The same step name in another execution, not announced as a big loop: each item shows.
    assert.match(p.line(ev({ type: 'step.started', step: 'each', attempt: 1, iteration: 0, worker: 'w' }, 'b'))!, /… each\[0\]/);
  });
});
