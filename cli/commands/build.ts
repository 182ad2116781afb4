/** Runs one playbook on a runtime with live progress; shared by `run` and `dev`. */
import type { ExecutionState } from '../../services/orchestrator/index.ts';
import { Progress, type Print } from '../progress.ts';
import type { Runtime } from '../runtime.ts';

export interface BuildResult {
  ref: string;
  executionId: string;
  state: ExecutionState;
  ms: number;
}

export async function buildPlaybook(rt: Runtime, ref: string, params: Record<string, unknown>, print: Print): Promise<BuildResult> {
  const t0 = Date.now();
  let executionId: string | undefined;
  const buffered: string[] = [];
  const progress = new Progress();
  const off = rt.supervisor.onEvent((e) => {
    const line = progress.line(e);
    if (!line) return;
    if (executionId === undefined) buffered.push(`${e.executionId}\u0000${line}`);
    else if (e.executionId === executionId) print(line);
  });
  try {
    print(`▶ ${ref}`);
    executionId = await rt.supervisor.startExecution(ref, params);
    for (const b of buffered) {
      const [id, line] = b.split('\u0000') as [string, string];
      if (id === executionId) print(line);
    }
    const state = await rt.supervisor.waitFor(executionId);
    const ms = Date.now() - t0;
    print(state.status === 'completed' ? `✔ ${ref} completed in ${ms} ms (execution ${executionId})` : `✘ ${ref} failed in ${ms} ms (execution ${executionId})`);
    return { ref, executionId, state, ms };
  } finally {
    off();
  }
}
