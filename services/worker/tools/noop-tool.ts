/** `noop`: does nothing; returns `result` when given, for routing and tests. */
import { renderDeep } from '../../../common/expressions.ts';
import type { Tool } from './tool.ts';

export const noopTool: Tool = {
  kind: 'noop',
  run(ctx) {
    const value = renderDeep(ctx.command.tool.result, ctx.command.scope);
    return Promise.resolve(value === undefined ? { kind: 'none' } : { kind: 'value', value });
  },
};
