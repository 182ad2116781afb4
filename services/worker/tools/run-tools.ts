/**
 * Runs a step's tool: one tool, or a task list in order, where each task sees
 * the one before as `previous` (in templates, and as the table `previous` in
 * DuckDB SQL) and the step's result is the last task's. Tasks write their
 * tables to files of their own next to the step's output.
 */
import { NoetlError } from '../../../common/errors.ts';
import type { StepResult } from '../../../platform/bus/messages.ts';
import type { Tool, ToolContext } from './tool.ts';

export function toolRunner(tools: ReadonlyMap<string, Tool>): (ctx: ToolContext, worker: string) => Promise<StepResult> {
  const one = (ctx: ToolContext, worker: string): Promise<StepResult> => {
    const tool = tools.get(ctx.command.tool.kind);
    if (!tool) throw new NoetlError('E_PLAYBOOK_UNKNOWN_TOOL', `no tool "${ctx.command.tool.kind}" on worker ${worker}`);
    return tool.run(ctx);
  };
  return async (ctx, worker) => {
    if (ctx.command.tool.kind !== 'tasks') return one(ctx, worker);
    const tasks = ctx.command.tool.tasks as ToolContext['command']['tool'][];
    let previous: StepResult | undefined;
    for (const [i, task] of tasks.entries()) {
      ctx.signal.throwIfAborted();
      const last = i === tasks.length - 1;
      const command = { ...ctx.command, tool: task, scope: previous ? { ...ctx.command.scope, previous } : ctx.command.scope };
      const outputPath = last ? ctx.outputPath : ctx.outputPath.replace(/\.parquet$/, `.task${i}.parquet`);
      try {
        previous = await one({ ...ctx, command, outputPath }, worker);
      } catch (e) {
        if (e instanceof Error && !(e instanceof NoetlError && e.code === 'E_CANCELLED')) e.message = `task ${i + 1}${typeof task.name === 'string' ? ` (${task.name})` : ''} of ${tasks.length}: ${e.message}`;
        throw e;
      }
    }
    return previous!;
  };
}
