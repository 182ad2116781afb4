/**
 * `noop`: runs nothing. Optional: `result` (returned, templated), `sleep_ms`
 * (waits, abortably: a stand-in for a slow step), `fail` (a message to fail
 * with) and `fail_when` (a guard: fail only when it is true, e.g.
 * `{{ attempt < 3 }}` to exercise retries).
 */
import { NoetlError } from '../../../common/errors.ts';
import { evaluateGuard, renderDeep, renderTemplate } from '../../../common/expressions.ts';
import { templateScope, type Tool } from './tool.ts';

export const noopTool: Tool = {
  kind: 'noop',
  async run(ctx) {
    const scope = templateScope(ctx.command);
    const budget = { deadline: ctx.deadline };
    const opts = ctx.command.tool as { result?: unknown; sleep_ms?: unknown; fail?: unknown; fail_when?: unknown };
    const sleep = Number(typeof opts.sleep_ms === 'string' ? renderTemplate(opts.sleep_ms, scope, budget) : (opts.sleep_ms ?? 0));
    if (sleep > 0) await abortableSleep(sleep, ctx.signal, ctx.heartbeat);
    if (opts.fail !== undefined) {
      const when = opts.fail_when === undefined ? true : evaluateGuard(opts.fail_when as string | boolean, scope, budget);
      if (when) throw new NoetlError('E_TOOL_FAILED', typeof opts.fail === 'string' ? renderTemplate(opts.fail, scope, budget) : JSON.stringify(opts.fail));
    }
    const value = renderDeep(opts.result, scope, budget);
    return value === undefined ? { kind: 'none' } : { kind: 'value', value };
  },
};

function abortableSleep(ms: number, signal: AbortSignal, heartbeat: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const beat = setInterval(heartbeat, 1000);
    const done = (): void => {
      clearInterval(beat);
      clearTimeout(t);
      signal.removeEventListener('abort', onAbort);
    };
    const t = setTimeout(() => {
      done();
      resolve();
    }, ms);
    const onAbort = (): void => {
      done();
      reject(signal.reason as Error);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort);
  });
}
